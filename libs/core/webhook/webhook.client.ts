import { Injectable } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DomainError } from '../../domain';
import { HostGuard } from '../outbound/host-guard';
import { HostResolver } from '../outbound/host-resolver';

/** Bytes of a receiver's answer kept with the attempt. */
export const EXCERPT_BYTES = 1024;

export type SendOutcome = 'delivered' | 'http_error' | 'redirect' | 'timeout' | 'network_error' | 'refused';

export interface SendResult {
  outcome: SendOutcome;
  statusCode: number | null;
  latencyMs: number;
  /** The start of the answer, or the error. Bounded by EXCERPT_BYTES. */
  excerpt: string | null;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/**
 * The door to webhook receivers. The URL's host is resolved once, the addresses are checked
 * against the operator's rules (HostGuard), and the connection goes to a checked address (a
 * lookup function that answers with it), so a name that resolves elsewhere by the time we connect
 * (DNS rebinding) reaches nothing new. Redirects are never followed: a 3xx is a failed attempt.
 * The whole attempt (connect, send, answer) is bounded by `timeoutMs`.
 */
@Injectable()
export class WebhookClient {
  constructor(
    private readonly guard: HostGuard,
    private readonly resolver: HostResolver,
  ) {}

  async send(r: WebhookRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const url = new URL(r.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolver.addresses(host);
      await this.guard.checkUrlAt('url', r.url, addresses);
    } catch (e) {
      const refused = e instanceof DomainError;
      return {
        outcome: refused ? 'refused' : 'network_error',
        statusCode: null,
        latencyMs: elapsed(),
        excerpt: bounded(refused ? e.message : `could not resolve ${host}: ${String(e)}`),
      };
    }
    const address = addresses[0];
    const family = isIP(address) === 6 ? 6 : 4;
    const lookup: LookupFunction = (_name, options, callback) => {
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
          { address, family },
        ]);
      } else callback(null, address, family);
    };
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (res: Omit<SendResult, 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...res, latencyMs: elapsed() });
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'POST',
          lookup,
          agent: false,
          headers: { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) },
        },
        (res) => readAnswer(res, finish),
      );
      const timer = setTimeout(() => {
        finish({
          outcome: 'timeout',
          statusCode: null,
          excerpt: `no answer within ${r.timeoutMs} ms`,
        });
        req.destroy();
      }, r.timeoutMs);
      req.on('error', (e) =>
        finish({ outcome: 'network_error', statusCode: null, excerpt: bounded(e.message) }),
      );
      req.end(r.body);
    });
  }
}

/** Reads at most EXCERPT_BYTES of the answer, then lets the socket go. */
function readAnswer(res: IncomingMessage, finish: (r: Omit<SendResult, 'latencyMs'>) => void): void {
  const status = res.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  const done = (): void => {
    const text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
    if (status >= 200 && status < 300) {
      finish({ outcome: 'delivered', statusCode: status, excerpt: text || null });
    } else if (status >= 300 && status < 400) {
      const location = res.headers.location ?? '';
      finish({
        outcome: 'redirect',
        statusCode: status,
        excerpt: bounded(`redirect not followed (Location: ${location}) ${text}`),
      });
    } else {
      finish({ outcome: 'http_error', statusCode: status, excerpt: text || null });
    }
  };
  res.on('data', (c: Buffer) => {
    if (size < EXCERPT_BYTES) chunks.push(c);
    size += c.length;
    if (size >= EXCERPT_BYTES) {
      res.destroy();
      done();
    }
  });
  res.on('end', done);
  res.on('error', done);
}

const bounded = (text: string): string => text.slice(0, EXCERPT_BYTES);
