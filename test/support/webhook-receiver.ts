import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A Standard Webhooks verifier written only from the specification (not the library): the
 * signature is base64 HMAC-SHA256, keyed with the base64 part of the `whsec_` secret, over
 * `webhook-id.webhook-timestamp.body`; the header holds space-separated `v1,<signature>` entries,
 * any one of which may match; the timestamp must be within five minutes.
 */
export function specVerify(secret: string, headers: Record<string, string>, body: string): boolean {
  const id = headers['webhook-id'];
  const ts = headers['webhook-timestamp'];
  const sigs = headers['webhook-signature'];
  if (!id || !ts || !sigs || !/^\d+$/.test(ts)) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return sigs.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface Received {
  headers: Record<string, string>;
  body: string;
  json: any;
  /** Whether each verifier accepted it, with the secrets the receiver knew at that moment. */
  library: boolean;
  spec: boolean;
  /** What the receiver answered (or 0 when it hung or dropped the connection). */
  answered: number;
}

/** How the receiver answers one request; default 204. */
export type Behaviour = (req: Received, n: number) => number | 'hang' | { redirect: string };

/** A real HTTP receiver on loopback that verifies every request with both verifiers. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  secrets: string[] = [];
  behaviour: Behaviour = () => 204;
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();

  private constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', ok));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Requests that both verifiers accepted with one of the current secrets. */
  get verified(): Received[] {
    return this.received.filter((r) => r.library && r.spec);
  }

  async waitFor(
    predicate: (all: Received[]) => boolean,
    timeoutMs = 20_000,
    what = 'deliveries',
  ): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > until) {
        throw new Error(
          `receiver: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((r) => [r.json?.type, r.answered]))}`,
        );
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    const library = this.secrets.some((s) => {
      try {
        new Webhook(s).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    const spec = this.secrets.some((s) => specVerify(s, headers, body));
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const r: Received = { headers, body, json, library, spec, answered: 0 };
    this.received.push(r);
    const answer = this.behaviour(r, this.received.length);
    if (answer === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (typeof answer === 'object') {
      r.answered = 302;
      res.writeHead(302, { location: answer.redirect }).end();
      return;
    }
    r.answered = answer;
    res
      .writeHead(answer, { 'content-type': 'text/plain' })
      .end(answer >= 400 ? `receiver says ${answer}` : '');
  }
}
