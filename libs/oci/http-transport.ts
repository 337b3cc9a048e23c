// One HTTP exchange over node:http/https with the client's timeouts, an overall deadline and a
// minimum transfer rate, and bounded body reading. Knows nothing about registries beyond turning
// network failures into RegistryErrors.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { RegistryError, redactUrl, type RegistryErrorDetails } from './errors';

const USER_AGENT = 'airlock-oci-client';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpExchange {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  /** A Buffer can be sent again (auth retry); a stream only once. */
  body?: Buffer | Readable;
  /**
   * Size of the response body when the caller knows it (a descriptor's size), for the deadline
   * when the registry sends no Content-Length.
   */
  expectedBytes?: number;
  /** A shorter overall deadline than the transport's (best-effort clean-up requests). */
  deadlineMs?: number;
}

/**
 * How long an exchange may take, whatever the registry does: `deadlineMs` plus the time the known
 * body sizes (request and response) need at `minBytesPerSecond`; and while a body flows, at least
 * `minBytesPerSecond` over every window of `windowMs`. A registry that drips a byte a second is cut
 * off after one window, not when the idle timeout (which any byte resets) never fires.
 */
export interface TransferLimits {
  deadlineMs: number;
  minBytesPerSecond: number;
}

/** The rate window: long enough to ride out a short stall, short enough to free a worker slot. */
export function rateWindowMs(limits: TransferLimits): number {
  return Math.max(1000, Math.min(10_000, limits.deadlineMs));
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be consumed or discarded (`discard`) by the caller. */
  body: IncomingMessage;
  url: URL;
}

export class HttpTransport {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32 });

  constructor(
    private readonly timeoutMs: number,
    private readonly limits: TransferLimits,
  ) {}

  /**
   * Sends one request and resolves when the response headers arrive. The timeout applies to
   * connecting, to waiting for headers and to every pause while the body flows (in both directions);
   * the deadline and the minimum rate (TransferLimits) to the whole exchange, until the response
   * body has been read or discarded. A cut-off is `unavailable` (transient): a slow registry may
   * be fast later.
   */
  send(exchange: HttpExchange, context: RegistryErrorDetails): Promise<HttpResponse> {
    const { url, method } = exchange;
    const secure = url.protocol === 'https:';
    const where = `${method} ${redactUrl(url)}`;
    return new Promise<HttpResponse>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      let settled = false;
      let headerTimer: NodeJS.Timeout | undefined;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(headerTimer);
        guard.stop();
        reject(networkError(error, where, context));
      };
      const request = (secure ? httpsRequest : httpRequest)(url, {
        method,
        headers: { 'user-agent': USER_AGENT, ...exchange.headers },
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      const cut = (error: RegistryError): void => {
        if (response !== undefined) response.destroy(error);
        else request.destroy(error);
      };
      const timeout = (): void =>
        cut(new RegistryError('unavailable', `${where}: no answer within ${this.timeoutMs} ms`, context));
      const guard = new TransferGuard(
        exchange.deadlineMs === undefined
          ? this.limits
          : { ...this.limits, deadlineMs: Math.min(exchange.deadlineMs, this.limits.deadlineMs) },
        where,
        context,
        cut,
      );
      guard.start(declaredLength(exchange.headers['content-length']));
      request.once('socket', (socket) => guard.watch(socket));
      // The wait for headers starts once the body is sent: a large upload may take long, and its
      // stalls are caught by the idle timeout.
      request.once('finish', () => {
        guard.waiting();
        if (response === undefined && !settled) headerTimer = setTimeout(timeout, this.timeoutMs);
      });
      request.setTimeout(this.timeoutMs, timeout);
      request.once('error', fail);
      request.once('response', (res) => {
        response = res;
        clearTimeout(headerTimer);
        if (settled) {
          res.destroy();
          return;
        }
        // The exchange is over once the body is read or thrown away (or broke off).
        guard.downloading(declaredLength(res.headers['content-length']) ?? exchange.expectedBytes);
        res.once('end', () => guard.stop());
        res.once('close', () => guard.stop());
        settled = true;
        // Body errors (reset, timeout) reach whoever reads the body, as RegistryErrors.
        res.on('error', () => undefined);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      const body = exchange.body;
      if (body === undefined) {
        request.end();
      } else if (Buffer.isBuffer(body)) {
        request.end(body);
      } else {
        pipeline(body, request).catch((error: unknown) => {
          // The source failed (or the request did): abort, and report the source's own error when
          // it is a RegistryError (e.g. a digest mismatch while copying).
          request.destroy();
          if (error instanceof RegistryError) {
            if (!settled) {
              settled = true;
              clearTimeout(headerTimer);
              guard.stop();
              reject(error);
            }
          } else {
            fail(error);
          }
        });
      }
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function declaredLength(value: string | string[] | undefined): number | undefined {
  const n = Number(Array.isArray(value) ? value[0] : value);
  return value !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Enforces TransferLimits on one exchange: a deadline timer, and a window timer that compares the
 * socket's bytes (both directions) with the minimum rate while a body flows. Waiting for headers
 * is left to the idle timeout and the deadline.
 */
class TransferGuard {
  private readonly started = Date.now();
  private deadline: NodeJS.Timeout | undefined;
  private window: NodeJS.Timeout | undefined;
  private socket: { bytesRead: number; bytesWritten: number } | undefined;
  private phase: 'sending' | 'waiting' | 'receiving' | 'done' = 'sending';
  private requestBytes = 0;
  private mark = { at: 0, bytes: 0 };

  constructor(
    private readonly limits: TransferLimits,
    private readonly where: string,
    private readonly context: RegistryErrorDetails,
    private readonly cut: (error: RegistryError) => void,
  ) {}

  start(requestBytes: number | undefined): void {
    this.requestBytes = requestBytes ?? 0;
    this.arm(0);
    const windowMs = rateWindowMs(this.limits);
    this.window = setInterval(() => this.checkRate(windowMs), windowMs);
    this.window.unref();
    this.remark();
  }

  watch(socket: { bytesRead: number; bytesWritten: number }): void {
    this.socket = socket;
    this.remark();
  }

  waiting(): void {
    if (this.phase === 'sending') this.phase = 'waiting';
  }

  downloading(responseBytes: number | undefined): void {
    if (this.phase === 'done') return;
    this.phase = 'receiving';
    this.remark();
    this.arm(responseBytes ?? 0);
  }

  stop(): void {
    this.phase = 'done';
    clearTimeout(this.deadline);
    clearInterval(this.window);
  }

  /** (Re)sets the deadline from the start of the exchange, for the sizes known now. */
  private arm(responseBytes: number): void {
    clearTimeout(this.deadline);
    const { deadlineMs, minBytesPerSecond } = this.limits;
    const allowed = deadlineMs + ((this.requestBytes + responseBytes) / minBytesPerSecond) * 1000;
    const left = Math.max(0, this.started + allowed - Date.now());
    // setTimeout holds at most 2^31-1 ms (24.8 days); longer means "no deadline worth keeping".
    if (left > 2 ** 31 - 1) return;
    this.deadline = setTimeout(() => {
      this.stop();
      this.cut(
        new RegistryError(
          'unavailable',
          `${this.where}: not finished within ${Math.round(allowed / 1000)} s (REGISTRY_DEADLINE_SECONDS ` +
            `plus the size at REGISTRY_MIN_BYTES_PER_SECOND); the registry is too slow, cut off`,
          this.context,
        ),
      );
    }, left);
    this.deadline.unref();
  }

  private bytes(): number {
    return this.socket === undefined ? 0 : this.socket.bytesRead + this.socket.bytesWritten;
  }

  private remark(): void {
    this.mark = { at: Date.now(), bytes: this.bytes() };
  }

  private checkRate(windowMs: number): void {
    if (this.phase === 'done') return;
    const now = Date.now();
    const elapsed = now - this.mark.at;
    // A phase that began within this window is judged at the next one.
    if (this.phase === 'waiting' || elapsed < windowMs * 0.9) {
      if (this.phase === 'waiting') this.remark();
      return;
    }
    const moved = this.bytes() - this.mark.bytes;
    const rate = (moved * 1000) / elapsed;
    if (rate < this.limits.minBytesPerSecond) {
      this.stop();
      this.cut(
        new RegistryError(
          'unavailable',
          `${this.where}: ${Math.round(rate)} bytes/s over the last ${Math.round(elapsed / 1000)} s, under ` +
            `the minimum of ${this.limits.minBytesPerSecond} (REGISTRY_MIN_BYTES_PER_SECOND); the registry is too slow, cut off`,
          this.context,
        ),
      );
      return;
    }
    this.remark();
  }
}

export function networkError(error: unknown, where: string, context: RegistryErrorDetails): RegistryError {
  if (error instanceof RegistryError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new RegistryError('unavailable', `${where} failed (${reason}); is the registry reachable?`, context);
}

/** Throws away a response body without reading it into memory. */
export function discard(response: HttpResponse): void {
  response.body.resume();
  response.body.on('error', () => undefined);
}

/**
 * Reads a whole body, refusing (too_large) as soon as it exceeds `maxBytes`, before reading it when
 * Content-Length already says so.
 */
export async function readBody(
  response: HttpResponse,
  maxBytes: number,
  what: string,
  context: RegistryErrorDetails,
): Promise<Buffer> {
  const tooLarge = (): RegistryError =>
    new RegistryError('too_large', `${what} is larger than the limit of ${maxBytes} bytes`, context);
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw networkError(error, `reading ${what}`, context);
  }
  return Buffer.concat(chunks, size);
}
