import { type Problem } from './api-types';
import { UsageError } from './args';
import { type TokenSource } from './config';

/** The API answered with an error; `problem` is its problem+json body when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get code(): string | undefined {
    return this.problem?.code;
  }
}

/** The server could not be reached (or did not answer in time). */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Bytes sent as they are (an advisory archive), instead of a JSON `body`. */
  raw?: { bytes: Uint8Array; contentType: string };
  headers?: Record<string, string>;
  /**
   * Whether sending the request twice is harmless, so that it is retried on a dropped connection
   * or a 502/503/504. GETs always are; a POST is when it carries an Idempotency-Key.
   */
  retry?: boolean;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiClientOptions {
  server: string;
  /** Undefined for public routes (GET /v1/keys): no Authorization header is sent. */
  token: TokenSource | undefined;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** Attempts for retryable requests; default 4. */
  attempts?: number;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const USER_AGENT = 'airlock-cli';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isProblem(value: unknown): value is Problem {
  const v = value as Partial<Problem> | null;
  return typeof v === 'object' && v !== null && typeof v.code === 'string' && typeof v.detail === 'string';
}

/** Why fetch failed, from its cause (`connect ECONNREFUSED 127.0.0.1:8080`), never from headers. */
function describeFetchFailure(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError'))
    return 'no answer in time';
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.name : 'request failed');
}

/** A thin client of Airlock's REST API: bearer auth, JSON in and out, problem+json errors. */
export class ApiClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly options: ApiClientOptions) {
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = options.attempts ?? 4;
  }

  get server(): string {
    return this.options.server;
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query, retry: true }).then((r) => r.body);
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const attempts = options.retry ? this.attempts : 1;
    // Before the loop: a token that cannot be had (a file missing, a CI endpoint refusing) is the
    // caller's problem, reported as it is, not a connection failure to retry.
    const authorization = await this.authorization();
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let res: Response;
      try {
        res = await this.send(method, path, options, authorization, AbortSignal.timeout(this.timeoutMs));
      } catch (e) {
        if (e instanceof UsageError || last) throw this.connectionError(e);
        await this.sleep(backoff(attempt));
        continue;
      }
      const body = await readBody(res);
      if (res.ok) return { status: res.status, body: body as T, headers: res.headers };
      const error = toApiError(res, body);
      const retryable = RETRYABLE_STATUS.has(res.status) || error.code === 'idempotency_key_in_progress';
      if (!retryable || last) throw error;
      await this.sleep(backoff(attempt));
    }
  }

  /** A streamed GET (the audit export): the response body, unread. */
  async stream(path: string): Promise<ReadableStream<Uint8Array>> {
    const authorization = await this.authorization();
    let res: Response;
    try {
      res = await this.send('GET', path, {}, authorization);
    } catch (e) {
      throw this.connectionError(e);
    }
    if (!res.ok || !res.body) throw toApiError(res, await readBody(res));
    return res.body;
  }

  private async authorization(): Promise<string | undefined> {
    return this.options.token ? `Bearer ${await this.options.token()}` : undefined;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    authorization: string | undefined,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = new URL(this.options.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': USER_AGENT,
      ...options.headers,
    };
    if (authorization) headers.authorization = authorization;
    let body: string | Uint8Array | undefined;
    if (options.raw !== undefined) {
      body = options.raw.bytes;
      headers['content-type'] = options.raw.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    return this.fetch(url, { method, headers, body, signal });
  }

  private connectionError(e: unknown): Error {
    if (e instanceof UsageError) return e;
    return new ConnectionError(`cannot reach ${this.options.server}: ${describeFetchFailure(e)}`);
  }
}

/** 250 ms, 500 ms, 1 s, … capped at 4 s. */
function backoff(attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 4000);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  const type = res.headers.get('content-type') ?? '';
  if (!/json/.test(type)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toApiError(res: Response, body: unknown): ApiError {
  if (isProblem(body)) return new ApiError(res.status, body, body.detail);
  return new ApiError(
    res.status,
    undefined,
    `the server answered HTTP ${res.status} ${res.statusText}`.trim(),
  );
}
