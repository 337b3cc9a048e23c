import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { loadConfig } from '../../config';
import { HostGuard } from '../outbound/host-guard';
import { EXCERPT_BYTES, WebhookClient } from './webhook.client';

/** A receiver on loopback that counts what reaches it. */
async function receiver(answer: (n: number) => [number, string, Record<string, string>?]) {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => {
      const [status, body, headers] = answer(hits);
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    stop: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** A client whose DNS answers from a table, under production or test rules. */
function client(mode: 'production' | 'test', dns: Record<string, string[]>): WebhookClient {
  const config = loadConfig({
    DATABASE_URL: 'postgres://u@localhost/airlock',
    REDIS_URL: 'redis://localhost:6379',
    AIRLOCK_SIGNING_KEY_FILE: '/keys/airlock.pem',
    AUDIT_CHECKPOINT_FILE: '/keys/checkpoints.jsonl',
    AIRLOCK_ALLOWED_HOSTS: '*.example.com:*,127.0.0.1:*',
    AIRLOCK_MODE: mode,
  });
  const resolver = {
    addresses: async (name: string) => {
      if (!dns[name]) throw new Error(`ENOTFOUND ${name}`);
      return dns[name];
    },
  };
  return new WebhookClient(new HostGuard(config, resolver), resolver);
}

const post = (url: string) => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  timeoutMs: 2000,
});

describe(WebhookClient.name, () => {
  it('connects to the address it checked, not to what the system resolver would say', async () => {
    const r = await receiver(() => [204, '']);
    try {
      // hooks.example.com does not exist; the client's own resolution (here: loopback) is used.
      const res = await client('test', { 'hooks.example.com': ['127.0.0.1'] }).send(
        post(`http://hooks.example.com:${r.port}/hook`),
      );
      expect(res).toMatchObject({ outcome: 'delivered', statusCode: 204 });
      expect(r.hits()).toBe(1);
    } finally {
      await r.stop();
    }
  });

  it('refuses, at delivery, a name that now resolves to a private address (and sends nothing)', async () => {
    const r = await receiver(() => [204, '']);
    try {
      const res = await client('production', { 'hooks.example.com': ['127.0.0.1'] }).send(
        post(`https://hooks.example.com:${r.port}/hook`),
      );
      expect(res.outcome).toBe('refused');
      expect(res.excerpt).toContain('private or loopback address 127.0.0.1');
      const literal = await client('production', {}).send(post(`https://127.0.0.1:${r.port}/hook`));
      expect(literal.outcome).toBe('refused');
      const plain = await client('production', { 'hooks.example.com': ['93.184.216.34'] }).send(
        post(`http://hooks.example.com:${r.port}/hook`),
      );
      expect(plain).toMatchObject({ outcome: 'refused', excerpt: expect.stringContaining('plain http') });
      expect(r.hits()).toBe(0);
    } finally {
      await r.stop();
    }
  });

  it('does not follow redirects and keeps only the first KiB of an answer', async () => {
    const r = await receiver((n) =>
      n === 1 ? [302, '', { location: 'http://127.0.0.1:1/elsewhere' }] : [500, 'x'.repeat(64 * 1024)],
    );
    try {
      const c = client('test', {});
      const moved = await c.send(post(`http://127.0.0.1:${r.port}/hook`));
      expect(moved).toMatchObject({ outcome: 'redirect', statusCode: 302 });
      expect(moved.excerpt).toContain('Location: http://127.0.0.1:1/elsewhere');
      const big = await c.send(post(`http://127.0.0.1:${r.port}/hook`));
      expect(big).toMatchObject({ outcome: 'http_error', statusCode: 500 });
      expect(big.excerpt?.length).toBeLessThanOrEqual(EXCERPT_BYTES);
      expect(r.hits()).toBe(2);
    } finally {
      await r.stop();
    }
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await client('test', {}).send({ ...post(`http://127.0.0.1:${port}/hook`), timeoutMs: 200 });
      expect(res.outcome).toBe('timeout');
      expect(res.latencyMs).toBeGreaterThanOrEqual(190);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
