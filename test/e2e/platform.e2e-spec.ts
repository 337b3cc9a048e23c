import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { builtScript, repositoryRoot } from '../../apps/devstack/processes';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { dataSourceOptions } from '../../libs/core/database/data-source';
import { artifact, Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

describe('migrations', () => {
  const name = `airlock_test_migrations_${randomBytes(4).toString('hex')}`;
  let url: string;
  beforeAll(async () => {
    url = await ensureDatabase(testEnv().adminDatabaseUrl, name);
  });
  afterAll(async () => {
    await dropDatabase(testEnv().adminDatabaseUrl, name);
  });

  it('leave nothing to generate: the entities and the migrated schema agree', async () => {
    await runMigrations(url);
    const ds = new DataSource(dataSourceOptions(url, 2));
    await ds.initialize();
    try {
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('undo cleanly and apply again', async () => {
    const ds = new DataSource(dataSourceOptions(url, 2));
    await ds.initialize();
    try {
      await ds.undoLastMigration();
      await ds.undoLastMigration();
      expect(await ds.showMigrations()).toBe(true);
      await ds.runMigrations();
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.destroy();
    }
  });
});

describe('operations', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('serves the same OpenAPI document that docs/openapi.json holds (run `npm run openapi` when stale)', async () => {
    const served = await rig.call('GET', '/openapi.json');
    expect(served.status).toBe(200);
    const committed = JSON.parse(readFileSync(join(repositoryRoot(), 'docs/openapi.json'), 'utf8'));
    expect(served.body).toEqual(committed);
  });

  it('documents every /v1 route with its errors', async () => {
    const doc = (await rig.call('GET', '/openapi.json')).body;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const [method, op] of Object.entries<any>(ops)) {
        // A route needs a token exactly when it is documented as such (its own `security`, else the
        // document's bearer requirement); only those can answer 401.
        const security = Array.isArray(op.security) ? op.security : (doc.security ?? []);
        const needsToken = security.length > 0;
        expect({ route: `${method} ${path}`, has401: '401' in op.responses }).toEqual({
          route: `${method} ${path}`,
          has401: needsToken,
        });
      }
    }
    // The public ones (GET /v1/keys) are the matrix's, which proves they need no token.
    expect(doc.paths['/v1/keys'].get.security).toEqual([]);
    expect(doc.security).toEqual([{ bearer: [] }]);
    // Every operation has a name a client generator turns into a good method name.
    const ids = Object.values<Record<string, any>>(doc.paths).flatMap((ops) =>
      Object.values<any>(ops).map((op) => op.operationId as string),
    );
    expect(ids.filter((id) => !/^[a-z][A-Za-z]+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it('answers health, readiness and Prometheus metrics without a token', async () => {
    expect((await rig.call('GET', '/healthz')).status).toBe(200);
    const ready = await rig.call('GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', postgres: 'ok', redis: 'ok' } });
    await rig.call('GET', '/v1/whoami', { as: 'auditor' });
    const metrics = await rig.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('airlock_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('airlock_promotions');
    expect(metrics.body).toContain('airlock_queue_jobs');
  });

  it('reports worker job durations in the API metrics', async () => {
    const env = `ops-${randomBytes(3).toString('hex')}`;
    await rig.environment(env);
    const created = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', env), environment: env },
    });
    await rig.waitForStatus(created.body.id, ['approved']);
    const until = Date.now() + 15_000;
    let body = '';
    do {
      body = (await rig.call('GET', '/metrics')).body as string;
      if (body.includes('airlock_job_duration_seconds_count')) break;
      await new Promise((r) => setTimeout(r, 500));
    } while (Date.now() < until);
    expect(body).toContain('airlock_job_duration_seconds_count');
  });

  it('answers an unknown route with a problem, and echoes a sane request id', async () => {
    const res = await rig.call('GET', '/v1/nope', { as: 'auditor', headers: { 'x-request-id': 'abc-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'not_found', requestId: 'abc-123' });
  });

  it('is unready, not broken, when Redis is unreachable', async () => {
    const stack = new AirlockStack({
      dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${rig.prefix}-noredis`),
      databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      redisUrl: 'redis://127.0.0.1:1/0',
      redisPrefix: `${rig.prefix}-noredis`,
      bootstrap: developmentBootstrap(rig.issuers),
      mode: 'test',
    });
    await stack.startApi('/healthz');
    try {
      const ready = await fetch(`${stack.apiUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unready', postgres: 'ok', redis: 'unreachable' });
      expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: '' }],
    ['REDIS_URL', { REDIS_URL: 'http://nope' }],
    ['API_PORT', { API_PORT: 'eighty' }],
  ])('refuses to start when %s is missing or malformed, naming it', (name, override) => {
    const env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      REDIS_URL: testEnv().redisUrl,
      AIRLOCK_SIGNING_KEY_FILE: '/nonexistent.pem',
      AUDIT_CHECKPOINT_FILE: '/tmp/x.jsonl',
      ...override,
    };
    const res = spawnSync(process.execPath, [builtScript('apps/api/main.js')], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.status).toBe(78);
    expect(res.stderr).toContain(name);
  });
});
