// One HTTP exchange over node:http/https with the client's timeouts, and bounded body reading.
// Knows nothing about registries beyond turning network failures into RegistryErrors.
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

  constructor(private readonly timeoutMs: number) {}

  /**
   * Sends one request and resolves when the response headers arrive. The timeout applies to
   * connecting, to waiting for headers and to every pause while the body flows (in both directions).
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
        reject(networkError(error, where, context));
      };
      const request = (secure ? httpsRequest : httpRequest)(url, {
        method,
        headers: { 'user-agent': USER_AGENT, ...exchange.headers },
        agent: secure ? this.httpsAgent : this.httpAgent,
      });
      const timeout = (): void => {
        const error = new RegistryError(
          'unavailable',
          `${where}: no answer within ${this.timeoutMs} ms`,
          context,
        );
        if (response !== undefined) response.destroy(error);
        else request.destroy(error);
      };
      // The wait for headers starts once the body is sent: a large upload may take long, and its
      // stalls are caught by the idle timeout.
      request.once('finish', () => {
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
