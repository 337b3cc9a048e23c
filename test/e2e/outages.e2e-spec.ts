import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { freePort } from '../../apps/devstack/processes';
import { type ApiResponse, artifact, Rig } from '../support/rig';
import { TcpProxy } from '../support/tcp-proxy';
import { testEnv } from '../support/test-env';
import { eventually } from '../support/eventually';

/**
 * Postgres and Redis going away under a running deployment: the API says "unavailable, retry"
 * (503 with Retry-After), never 500 and never an empty answer; /readyz names what is down; /metrics
 * still answers; and when the dependency returns, the same requests succeed without a restart.
 * Each dependency is taken away through a TCP proxy of this file's own: the shared Postgres and
 * Redis keep running.
 */
describe('dependency outages', () => {
  const uid = (): string => randomBytes(3).toString('hex');
  let pg: TcpProxy;
  let redis: TcpProxy;
  let rig: Rig;
  let env: string;
  let awaiting: string;

  function expectUnavailable(res: ApiResponse, code: string): void {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: 503, code });
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  }

  /** The API's JSON log lines with the given msg. */
  const logLines = (msg: string): Array<Record<string, unknown>> =>
    readFileSync(join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg);

  const metrics = async (): Promise<string> => {
    // A hang fails here (the abort), not as a jest timeout: /metrics must answer while a dependency is dead.
    const res = await fetch(`${rig.stack.apiUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    const databaseUrl = process.env.AIRLOCK_TEST_DATABASE_URL as string;
    pg = await TcpProxy.for(databaseUrl);
    redis = await TcpProxy.for(testEnv().redisUrl);
    rig = await Rig.start({
      DATABASE_URL: pg.url(databaseUrl),
      REDIS_URL: redis.url(testEnv().redisUrl),
      DEPENDENCY_TIMEOUT_MS: '1000',
    });
    env = `outage-${uid()}`;
    await rig.environment(env, { approvals: { required: 1 } });
    const created = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', `${env}-before`), environment: env },
    });
    expect(created.status).toBe(201);
    awaiting = created.body.id;
    await rig.waitForStatus(awaiting, ['awaiting_approval'], 30_000);
  });

  afterAll(async () => {
    await pg?.restore();
    await redis?.restore();
    await rig?.stop();
    await pg?.stop();
    await redis?.stop();
  });

  it('answers 503 database_unavailable while Postgres is unreachable, and serves again when it returns', async () => {
    const requester = await rig.token('requester', { fresh: true });
    const requesterAfter = await rig.token('requester', { fresh: true });
    const requests = {
      create: (token: string, seed: string) =>
        rig.call('POST', '/v1/promotions', {
          token,
          body: { artifact: artifact('acme/app', `${env}-${seed}`), environment: env },
        }),
      list: () => rig.call('GET', '/v1/promotions?limit=5', { as: 'auditor' }),
      listByEnvironment: (name: string) =>
        rig.call('GET', `/v1/promotions?environment=${name}`, { as: 'auditor' }),
      pending: () => rig.call('GET', '/v1/approvals/pending?limit=100', { as: 'approver' }),
      get: () => rig.call('GET', `/v1/promotions/${awaiting}`, { as: 'auditor' }),
    };
    // A name the API has never looked up (so not cached): that lookup failing used to read as an
    // empty page. Once Postgres is back it is a legitimately empty one.
    const unknownEnvironment = `never-${uid()}`;

    await pg.cut();
    try {
      expectUnavailable(await requests.create(requester, 'during'), 'database_unavailable');
      expectUnavailable(await requests.list(), 'database_unavailable');
      expectUnavailable(await requests.listByEnvironment(unknownEnvironment), 'database_unavailable');
      expectUnavailable(await requests.pending(), 'database_unavailable');
      expectUnavailable(await requests.get(), 'database_unavailable');

      const ready = await rig.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unready', postgres: 'unreachable', redis: 'ok' });
      expect(ready.body.reasons.join('\n')).toContain('postgres');
      expect(await metrics()).toContain('airlock_dependency_up{dependency="postgres"} 0');
    } finally {
      await pg.restore();
    }
    // Handled, not a bug: a warning (pino level 40) naming the cause, no stack, no "unhandled error".
    await eventually('outage warnings in the log', async () =>
      Promise.resolve(logLines('dependency unavailable').length >= 5),
    );
    for (const line of logLines('dependency unavailable')) {
      expect(line).toMatchObject({ level: 40, code: 'database_unavailable' });
      expect(line.stack).toBeUndefined();
    }
    expect(logLines('unhandled error')).toEqual([]);

    await eventually('API ready again', async () => (await rig.call('GET', '/readyz')).status === 200);
    const created = await requests.create(requesterAfter, 'after');
    expect(created.status).toBe(201);
    const list = await requests.list();
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect(await requests.listByEnvironment(unknownEnvironment)).toMatchObject({
      status: 200,
      body: { items: [], nextCursor: null },
    });
    const byEnv = await requests.listByEnvironment(env);
    expect(byEnv.status).toBe(200);
    expect(byEnv.body.items.map((p: { id: string }) => p.id)).toContain(awaiting);
    const pending = await requests.pending();
    expect(pending.status).toBe(200);
    expect(pending.body.items.map((p: { id: string }) => p.id)).toContain(awaiting);
    expect((await requests.get()).body).toMatchObject({ id: awaiting, status: 'awaiting_approval' });
    expect(await metrics()).toContain('airlock_dependency_up{dependency="postgres"} 1');
  });

  it('keeps /metrics and /readyz answering while Redis is unreachable, and accepts work it relays later', async () => {
    const token = await rig.token('requester', { fresh: true });
    await redis.cut();
    let accepted: string;
    try {
      const text = await metrics();
      expect(text).toContain('airlock_dependency_up{dependency="redis"} 0');
      expect(text).toContain('airlock_http_request_duration_seconds');

      const ready = await rig.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unready', postgres: 'ok', redis: 'unreachable' });
      expect(ready.body.reasons.join('\n')).toContain('redis');

      // Intake writes Postgres only (the outbox); the wake-up that Redis would carry is not waited for.
      const created = await rig.call('POST', '/v1/promotions', {
        token,
        body: { artifact: artifact('acme/app', `${env}-no-redis`), environment: env },
      });
      expect(created.status).toBe(201);
      accepted = created.body.id;
    } finally {
      await redis.restore();
    }

    await eventually('API ready again', async () => (await rig.call('GET', '/readyz')).status === 200);
    expect(await metrics()).toContain('airlock_dependency_up{dependency="redis"} 1');
    // The outbox row waited in Postgres; once Redis is back the job runs.
    await rig.waitForStatus(accepted, ['awaiting_approval'], 60_000);
  });
});

describe('Redis that may evict jobs', () => {
  const children: ChildProcess[] = [];

  /** A redis-server of this test's own on a free port (never the shared one). */
  async function ownRedis(args: string[]): Promise<string> {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...args],
      {
        stdio: 'ignore',
      },
    );
    children.push(child);
    const url = `redis://127.0.0.1:${port}/0`;
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => 100 });
    probe.on('error', () => undefined);
    await probe.ping();
    probe.disconnect();
    return url;
  }

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  });

  async function apiOn(redisUrl: string, name: string): Promise<AirlockStack> {
    const prefix = `airlock-test-${uid()}`;
    const stack = new AirlockStack({
      dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${prefix}-${name}`),
      databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      redisUrl,
      redisPrefix: prefix,
      bootstrap: developmentBootstrap({
        ci: process.env.AIRLOCK_TEST_CI_ISSUER as string,
        people: process.env.AIRLOCK_TEST_PEOPLE_ISSUER as string,
      }),
      mode: 'test',
    });
    await stack.startApi('/healthz');
    return stack;
  }
  const uid = (): string => randomBytes(4).toString('hex');

  it('is not ready while maxmemory-policy is allkeys-lru, and says why', async () => {
    const url = await ownRedis(['--maxmemory-policy', 'allkeys-lru']);
    const stack = await apiOn(url, 'lru');
    try {
      const res = await fetch(`${stack.apiUrl}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { reasons: string[] };
      expect(body).toMatchObject({
        status: 'unready',
        postgres: 'ok',
        redis: 'ok',
        redisMaxmemoryPolicy: 'allkeys-lru',
      });
      expect(body.reasons.join('\n')).toMatch(/maxmemory-policy is allkeys-lru.*noeviction/);

      const admin = new Redis(url);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
      const again = await fetch(`${stack.apiUrl}/readyz`);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ status: 'ready', redisMaxmemoryPolicy: 'noeviction' });
    } finally {
      await stack.stop();
    }
  });

  it('stays ready when CONFIG is disabled, calling the policy unknown', async () => {
    const url = await ownRedis(['--rename-command', 'CONFIG', '']);
    const stack = await apiOn(url, 'noconfig');
    try {
      const res = await fetch(`${stack.apiUrl}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ready',
        redis: 'ok',
        redisMaxmemoryPolicy: 'unknown',
      });
    } finally {
      await stack.stop();
    }
  });
});
