// `npm run bench`: Airlock's promotion routes under load beside a bare NestJS floor, same database,
// same run. Creates (and drops) its own database and Redis prefix, starts its own processes, and
// writes the figures to docs/benchmarks.md (its own section only). Settings, all optional:
//   BENCH_SECONDS=10 BENCH_WARMUP_SECONDS=2 BENCH_CONNECTIONS=50 BENCH_ROWS=1000000
//   BENCH_ROUNDS=4                      slices a read pair's measured seconds alternate in
//   BENCH_ONLY=get,floor-select         run only these scenarios (the doc is then not written)
//   BENCH_DOC=docs/benchmarks.md|none   where to write the figures
//   BENCH_CPU_PROF=<dir>                run the API with --cpu-prof, profiles into <dir>
//   BENCH_DIAGNOSE=1                    afterwards, time the repository calls in-process (bench/diagnose.ts)
//   BENCH_DEADLINE_SECONDS=290          give up (and clean up) after this long (350 when diagnosing)
//   BENCH_KEEP_LOGS=1                   keep the processes' logs (kept anyway when the run fails)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../apps/devstack/database';
import {
  builtScript,
  jsonLine,
  repositoryRoot,
  type ServiceProcess,
  spawnService,
} from '../apps/devstack/processes';
import { type Issuers, startIssuers } from '../apps/devstack/stack';
import { getToken } from '../test/support/oidc';
import { testEnv } from '../test/support/test-env';
import { diagnose, type DiagnoseRow } from './diagnose';
import { api } from './lib-api';
import { developmentStack } from './lib-scratch';
import { type CpuTargets, machineLoad, runLoad, type Target } from './load';
import {
  compare,
  consoleTable,
  markdownSection,
  type RunInfo,
  READ_TARGET,
  type ScenarioResult,
  type Target as Goal,
  targeted,
  WRITE_TARGET,
  writeSection,
} from './report';
import { FLOOR_TABLE_DDL, seedPromotions, type SeedResult } from './seed';

const env = process.env;
const num = (name: string, fallback: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const SETTINGS = {
  seconds: num('BENCH_SECONDS', 10),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2),
  rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 4))),
  connections: num('BENCH_CONNECTIONS', 50),
  rows: num('BENCH_ROWS', 1_000_000),
  // The load takes about 2 minutes and seeding 1M rows about one; diagnosing adds half a minute.
  deadlineSeconds: num('BENCH_DEADLINE_SECONDS', env.BENCH_DIAGNOSE === '1' ? 350 : 290),
  only: env.BENCH_ONLY ? env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined,
  doc: env.BENCH_DOC ?? (env.BENCH_ONLY ? 'none' : 'docs/benchmarks.md'),
  cpuProf: env.BENCH_CPU_PROF ? resolve(env.BENCH_CPU_PROF) : undefined,
  diagnose: env.BENCH_DIAGNOSE === '1',
  keepLogs: env.BENCH_KEEP_LOGS === '1',
};
if (SETTINGS.rows < 10_000) throw new Error('BENCH_ROWS must be at least 10000');
const POOL_SIZE = 10; // the API's DATABASE_POOL_SIZE default; the floor uses the same
const ENVIRONMENT = 'bench';
/** The application_name of each process's Postgres connections. */
const APPLICATION = {
  api: 'airlock-bench-api',
  worker: 'airlock-bench-worker',
  floor: 'airlock-bench-floor',
};
const SOURCE_REGISTRY = 'registry.staging.example.com';

/** The commit measured (and whether the tree had changes), or BENCH_REVISION when set. */
function revision(): string {
  if (env.BENCH_REVISION) return env.BENCH_REVISION;
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', repositoryRoot(), ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? ' with uncommitted changes' : ''}`;
  } catch {
    return 'unknown revision';
  }
}

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

/** Everything started so far, undone in reverse order, once. */
class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  add(name: string, fn: () => Promise<void>): void {
    this.steps.push({ name, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.fn();
        } catch (e) {
          log(`cleanup: ${step.name} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    })();
    return this.running;
  }
}

interface Scenario {
  key: string;
  title: string;
  floor?: string;
  /** What it must reach against the floor (absent: shown for reference). */
  target?: Goal;
  /** Measured with the worker stopped (started again afterwards, and drained). */
  withoutWorker?: boolean;
  /** Waits for the worker to drain afterwards and records its backlog. */
  writes?: boolean;
  spec: () => Promise<Target>;
}

const digestOf = (n: number, salt: string): string => `sha256:${salt}${n.toString(16).padStart(56, '0')}`;
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const randomSeq = (rows: number): number => 1000 + Math.floor(Math.random() * Math.max(1, rows - 1000));
const cursorFor = (seq: number): string =>
  Buffer.from(JSON.stringify({ seq: String(seq) })).toString('base64url');

function scenarios(ctx: {
  apiUrl: string;
  floorUrl: string;
  seed: SeedResult;
  token: (client: string) => Promise<string>;
}): Scenario[] {
  const ids = ctx.seed.detailIds;
  const rows = ctx.seed.rows;
  const salt = randomBytes(4).toString('hex');
  let counter = 0;
  const promotionBody = (): string => {
    counter += 1;
    return JSON.stringify({
      artifact: `${SOURCE_REGISTRY}/acme/app@${digestOf(counter, salt)}`,
      environment: ENVIRONMENT,
    });
  };
  const json = { 'content-type': 'application/json' };
  const bearer = async (client: string): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await ctx.token(client)}`,
  });
  return [
    {
      key: 'floor-select',
      title: 'floor: select by id',
      spec: async () => ({
        url: ctx.floorUrl,
        next: () => ({ path: `/floor/select/${pick(ids)}` }),
      }),
    },
    {
      key: 'get',
      target: READ_TARGET,
      title: 'GET /v1/promotions/:id',
      floor: 'floor-select',
      spec: async () => ({
        url: ctx.apiUrl,
        headers: await bearer('grace'),
        next: () => ({ path: `/v1/promotions/${pick(ids)}` }),
      }),
    },
    {
      key: 'floor-page',
      title: 'floor: newest page',
      spec: async () => ({ url: ctx.floorUrl, next: () => ({ path: '/floor/page' }) }),
    },
    {
      key: 'list',
      target: READ_TARGET,
      title: 'GET /v1/promotions?limit=50',
      floor: 'floor-page',
      spec: async () => ({
        url: ctx.apiUrl,
        headers: await bearer('grace'),
        next: () => ({ path: '/v1/promotions?limit=50' }),
      }),
    },
    {
      key: 'floor-page-deep',
      title: 'floor: page at random seq',
      spec: async () => ({
        url: ctx.floorUrl,
        next: () => ({ path: `/floor/page?before=${randomSeq(rows)}` }),
      }),
    },
    {
      key: 'list-deep',
      target: READ_TARGET,
      title: 'GET /v1/promotions?limit=50&cursor=(random)',
      floor: 'floor-page-deep',
      spec: async () => ({
        url: ctx.apiUrl,
        headers: await bearer('grace'),
        next: () => ({ path: `/v1/promotions?limit=50&cursor=${cursorFor(randomSeq(rows))}` }),
      }),
    },
    {
      key: 'floor-insert',
      title: 'floor: validated insert',
      spec: async () => ({
        url: ctx.floorUrl,
        method: 'POST',
        headers: json,
        next: () => ({ path: '/floor/insert', body: promotionBody() }),
      }),
    },
    {
      key: 'create',
      target: WRITE_TARGET,
      title: 'POST /v1/promotions',
      floor: 'floor-insert',
      writes: true,
      spec: async () => ({
        url: ctx.apiUrl,
        method: 'POST',
        headers: { ...json, ...(await bearer('carol')) },
        next: () => ({ path: '/v1/promotions', body: promotionBody() }),
      }),
    },
    {
      key: 'create-idem',
      target: WRITE_TARGET,
      title: 'POST /v1/promotions + Idempotency-Key',
      floor: 'floor-insert',
      writes: true,
      spec: async () => ({
        url: ctx.apiUrl,
        method: 'POST',
        headers: { ...json, ...(await bearer('carol')) },
        next: () => ({
          path: '/v1/promotions',
          body: promotionBody(),
          headers: { 'idempotency-key': `bench-${salt}-${counter}` },
        }),
      }),
    },
    {
      // The same requests with no worker taking the promotions in meanwhile: what intake alone
      // costs, against what the worker's share of the machine and of Postgres costs it.
      key: 'create-alone',
      title: 'POST /v1/promotions, worker stopped',
      floor: 'floor-insert',
      writes: true,
      withoutWorker: true,
      spec: async () => ({
        url: ctx.apiUrl,
        method: 'POST',
        headers: { ...json, ...(await bearer('carol')) },
        next: () => ({ path: '/v1/promotions', body: promotionBody() }),
      }),
    },
  ];
}

async function main(cleanup: Cleanup): Promise<number> {
  const started = Date.now();
  const { adminDatabaseUrl, redisUrl } = testEnv();
  const id = randomBytes(4).toString('hex');
  const dbName = `airlock_bench_${id}`;
  const redisPrefix = `airlock-bench-${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  let keepDataDir = true;
  cleanup.add('data dir', async () => {
    if (keepDataDir) log(`logs kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  });

  log(`database ${dbName}, redis prefix ${redisPrefix}`);
  const databaseUrl = await ensureDatabase(adminDatabaseUrl, dbName);
  cleanup.add('database', () => dropDatabase(adminDatabaseUrl, dbName));
  await runMigrations(databaseUrl);
  const db = new Pool({ connectionString: databaseUrl, max: 2, application_name: 'airlock-bench' });
  db.on('error', () => undefined); // a dropped database ends idle connections; nothing to do then
  // Ending the pool waits for queries in flight (a seeding step when the deadline hits): bounded.
  cleanup.add('bench pool', () => Promise.race([db.end(), new Promise<void>((r) => setTimeout(r, 2000))]));

  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  cleanup.add('redis', async () => {
    let n = 0;
    for await (const keys of redis.scanStream({ match: `${redisPrefix}:*`, count: 1000 })) {
      if ((keys as string[]).length) n += await redis.del(...(keys as string[]));
    }
    log(`deleted ${n} redis keys`);
    redis.disconnect();
  });

  const issuers: Issuers = await startIssuers(join(dataDir, 'issuers'));
  cleanup.add('issuers', () => issuers.stop());

  // Each process's Postgres connections carry its name (the URL's application_name wins over the
  // DataSource's), so the Postgres CPU each one causes can be told apart.
  const urlFor = (applicationName: string): string => {
    const u = new URL(databaseUrl);
    u.searchParams.set('application_name', applicationName);
    return u.toString();
  };
  const apiEnv: Record<string, string> = {
    LOG_LEVEL: 'warn',
    DATABASE_URL: urlFor(APPLICATION.api),
    DATABASE_POOL_SIZE: String(POOL_SIZE),
    // The load comes from a handful of callers on one address: budgets it never reaches (still counted).
    RATE_LIMIT_CALLER_MAX: '1000000000',
    RATE_LIMIT_ANONYMOUS_MAX: '1000000000',
    // The benchmark's environment names registries nobody reaches (digests are pinned).
    AIRLOCK_ALLOWED_HOSTS: `127.0.0.1:*,${SOURCE_REGISTRY},registry.prod.example.com`,
  };
  if (SETTINGS.cpuProf) {
    mkdirSync(SETTINGS.cpuProf, { recursive: true });
    apiEnv.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${SETTINGS.cpuProf}`;
  }
  const stack = developmentStack({ dataDir, databaseUrl, redisUrl, prefix: redisPrefix }, issuers, apiEnv);
  cleanup.add('airlock', () => stack.stop());
  await stack.startApi();
  // AirlockStack knows the worker is ready from its `worker started` info line, so the worker runs
  // at `info` (one line per job); the API, whose per-request line is what costs, at `warn`. A
  // profile, if asked for, is the API's only.
  const workerEnv = { LOG_LEVEL: 'info', NODE_OPTIONS: '', DATABASE_URL: urlFor(APPLICATION.worker) };
  await stack.startWorker(workerEnv);
  log(`airlock api ${stack.apiUrl}`);

  const tokens = new Map<string, { token: string; at: number }>();
  const token = async (client: string): Promise<string> => {
    const hit = tokens.get(client);
    // Tokens live 300 s; a fresh one for every scenario that starts after the first minute.
    if (hit && Date.now() - hit.at < 60_000) return hit.token;
    const t = await getToken(issuers.people, client);
    tokens.set(client, { token: t, at: Date.now() });
    return t;
  };

  // An environment with an active policy and a requester binding for a person, whose token may
  // request many promotions: each a change erin proposes and frank applies (four eyes).
  const a = api(stack.apiUrl);
  const proposeAndApply = async (path: string, body: unknown): Promise<void> => {
    const change = await a.call<{ id: string }>('POST', path, await token('erin'), body);
    await a.call('POST', `/v1/changes/${change.id}/approve`, await token('frank'));
  };
  await proposeAndApply('/v1/environments', {
    name: ENVIRONMENT,
    sources: [{ registry: SOURCE_REGISTRY, repositories: ['acme/*', 'team/**'] }],
    target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
  });
  const policy = await a.call<{ version: number }>(
    'POST',
    `/v1/environments/${ENVIRONMENT}/policies`,
    await token('erin'),
    { document: { approvals: { required: 0 } } },
  );
  await a.call(
    'POST',
    `/v1/environments/${ENVIRONMENT}/policies/${policy.version}/activate`,
    await token('frank'),
  );
  await proposeAndApply('/v1/role-bindings', {
    role: 'requester',
    issuer: issuers.people,
    subject: 'carol',
  });

  // The floor starts now, while dist/ is as `npm run build` left it (a rebuild by someone else
  // later would not matter to processes already running).
  await db.query(FLOOR_TABLE_DDL);
  let floorUrl = '';
  const floor: ServiceProcess = await spawnService({
    name: 'floor',
    script: builtScript('bench/floor-server.js'),
    env: { DATABASE_URL: urlFor(APPLICATION.floor), DATABASE_POOL_SIZE: String(POOL_SIZE) },
    logFile: join(dataDir, 'floor.log'),
    ready: async (child) => {
      floorUrl = (await jsonLine<{ event: string; url: string }>(child, 'listening')).url;
    },
  });
  cleanup.add('floor', () => floor.stop());
  log(`floor ${floorUrl}`);

  const target: Array<{ environment_id: string; policy_version_id: string; sha256: string }> = (
    await db.query(
      `SELECT e.id AS environment_id, pv.id AS policy_version_id, pv.sha256
       FROM environment e JOIN policy_version pv ON pv.id = e.active_policy_version_id WHERE e.name = $1`,
      [ENVIRONMENT],
    )
  ).rows;
  log(`seeding ${SETTINGS.rows.toLocaleString('en-US')} promotions…`);
  const seed = await seedPromotions(
    db,
    {
      environmentId: target[0].environment_id,
      policyVersionId: target[0].policy_version_id,
      policySha256: target[0].sha256,
      ciIssuer: issuers.ci,
      peopleIssuer: issuers.people,
    },
    SETTINGS.rows,
    log,
  );
  log(`seeded in ${seed.seconds.toFixed(1)} s`);

  const pidOf = (p: ServiceProcess | undefined): number => p?.child.pid ?? -1;
  // Postgres: this database's backends and the server's own processes (WAL writer, checkpointer…);
  // other databases' backends (someone else's tests) count as `other`.
  const otherBackend = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/;
  // Which backend serves which process, read after each warm-up (the pools' connections are open).
  const backendOf = new Map<number, string>();
  const readBackends = async (): Promise<void> => {
    const rows: Array<{ pid: number; application_name: string }> = (
      await db.query('SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1', [dbName])
    ).rows;
    backendOf.clear();
    for (const r of rows) {
      const owner = (Object.keys(APPLICATION) as Array<keyof typeof APPLICATION>).find(
        (k) => APPLICATION[k] === r.application_name,
      );
      if (owner) backendOf.set(r.pid, `postgres for ${owner}`);
    }
  };
  const isPostgres = (p: { comm: string; cmdline: string }): boolean =>
    p.comm === 'postgres' && (p.cmdline.includes(` ${dbName} `) || !otherBackend.test(p.cmdline));
  const cpuTargets: CpuTargets = [
    { name: 'api', match: (p) => p.pid === pidOf(stack.api) },
    { name: 'worker', match: (p) => p.pid === pidOf(stack.worker) },
    { name: 'floor', match: (p) => p.pid === pidOf(floor) },
    ...['api', 'worker', 'floor'].map((owner) => ({
      name: `postgres for ${owner}`,
      match: (p: { pid: number; comm: string; cmdline: string }) =>
        isPostgres(p) && backendOf.get(p.pid) === `postgres for ${owner}`,
    })),
    // The server's own processes (WAL writer, checkpointer…) and the bench's connections.
    { name: 'postgres', match: isPostgres },
    { name: 'redis', match: (p) => p.comm === 'redis-server' },
  ];

  const backlog = async (): Promise<number> =>
    Number(
      (
        await db.query(
          `SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM audit_pending)
             + (SELECT count(*) FROM promotion WHERE status IN ('received', 'checking')) AS n`,
        )
      ).rows[0].n,
    );
  /** Waits (at most maxSeconds) for the worker to catch up; returns how long it took and what is left. */
  const drain = async (maxSeconds: number): Promise<{ seconds: number; left: number }> => {
    const started = Date.now();
    let n = await backlog();
    while (n > 0 && Date.now() - started < maxSeconds * 1000) {
      await new Promise((r) => setTimeout(r, 250));
      n = await backlog();
    }
    if (n > 0) log(`worker backlog still ${n} after ${maxSeconds} s; going on`);
    return { seconds: (Date.now() - started) / 1000, left: n };
  };

  const all = scenarios({ apiUrl: stack.apiUrl, floorUrl, seed, token });
  const chosen = SETTINGS.only ? all.filter((s) => SETTINGS.only?.includes(s.key)) : all;
  if (chosen.length === 0)
    throw new Error(`BENCH_ONLY matches no scenario (${all.map((s) => s.key).join(', ')})`);
  // Reads run as pairs (floor and Airlock taking turns in slices); writes one after another, so
  // the worker's backlog from Airlock's writes never lands in the floor's measurement.
  const batches: Scenario[][] = [];
  for (const s of chosen) {
    const pairedWith = batches.find(
      (b) => b.length === 1 && !b[0].writes && !s.writes && s.floor === b[0].key,
    );
    if (pairedWith) pairedWith.push(s);
    else batches.push([s]);
  }
  const results: ScenarioResult[] = [];
  // This machine may be shared (someone's test run): before each batch, wait a little for it to
  // be quiet, within a budget for the whole run. What others used is reported as `other`.
  let quietBudgetMs = 15_000;
  for (const [i, batch] of batches.entries()) {
    const waitStarted = Date.now();
    let load = await machineLoad();
    while (load > 0.3 && Date.now() - waitStarted < Math.min(3000, quietBudgetMs)) load = await machineLoad();
    quietBudgetMs -= Date.now() - waitStarted;
    const titles = batch.map((s) => s.title).join(' / ');
    if (load > 0.3) log(`machine busy (${load.toFixed(2)} cores used by others) before ${titles}`);
    const rounds = batch.length > 1 ? SETTINGS.rounds : 1;
    log(
      `${titles}: ${SETTINGS.warmupSeconds} s warm-up + ${SETTINGS.seconds} s each` +
        (rounds > 1 ? ` in ${rounds} alternating slices…` : '…'),
    );
    const specs = [];
    for (const s of batch) specs.push(await s.spec());
    const withoutWorker = batch.some((s) => s.withoutWorker);
    if (withoutWorker) await stack.stopWorker();
    const measured = await runLoad(
      specs,
      {
        connections: SETTINGS.connections,
        seconds: SETTINGS.seconds,
        warmupSeconds: SETTINGS.warmupSeconds,
        rounds,
        beforeMeasuring: readBackends,
      },
      cpuTargets,
    );
    for (const [j, s] of batch.entries()) {
      const result = measured[j];
      const row: ScenarioResult = { key: s.key, title: s.title, floor: s.floor, target: s.target, result };
      if (s.writes) {
        row.backlog = await backlog();
        if (withoutWorker) await stack.startWorker(workerEnv);
        if (i < batches.length - 1) row.drain = await drain(20);
      }
      results.push(row);
      log(
        `  ${s.title}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(1)} ms, ` +
          `p99 ${result.p99.toFixed(1)} ms, ` +
          `non-2xx ${result.non2xx}, errors ${result.errors}, others used ${result.cpu.other.toFixed(2)} cores` +
          (row.backlog !== undefined ? `, worker backlog ${row.backlog}` : ''),
      );
      if (result.non2xx > 0) log(`  status codes: ${JSON.stringify(result.statusCodes)}`);
    }
  }

  let diagnosis: DiagnoseRow[] | undefined;
  if (SETTINGS.diagnose) {
    log('diagnosis: repository calls in-process, worker stopped…');
    await stack.stopWorker();
    diagnosis = await diagnose({
      databaseUrl,
      detailIds: seed.detailIds,
      rows: seed.rows,
      environmentId: target[0].environment_id,
      requester: { kind: 'human', issuer: issuers.people, subject: 'carol' },
      log,
    });
  }

  const pgVersion: string = (await db.query('SHOW server_version')).rows[0].server_version;
  const info: RunInfo = {
    date: new Date().toISOString().slice(0, 10),
    revision: revision(),
    cpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    node: process.version,
    postgres: `PostgreSQL ${pgVersion.split(' ')[0]}`,
    connections: SETTINGS.connections,
    seconds: SETTINGS.seconds,
    warmupSeconds: SETTINGS.warmupSeconds,
    rounds: SETTINGS.rounds,
    rows: seed.rows,
    seedSeconds: seed.seconds,
    totalSeconds: (Date.now() - started) / 1000,
  };
  process.stdout.write(`\n${consoleTable(results)}\n\n`);

  const failed = results.filter((r) => r.result.non2xx + r.result.errors + r.result.timeouts > 0);
  if (failed.length) {
    log(`failed requests in: ${failed.map((r) => r.title).join(', ')}; figures not written`);
    return 1;
  }
  const cmp = targeted(compare(results));
  log(`targets: ${cmp.filter((c) => c.met).length} of ${cmp.length} met`);
  if (SETTINGS.doc !== 'none') {
    const file = resolve(repositoryRoot(), SETTINGS.doc);
    await writeSection(file, markdownSection(info, results, diagnosis));
    log(`wrote ${file}`);
  }
  keepDataDir = SETTINGS.keepLogs;
  return 0;
}

const cleanup = new Cleanup();
const abort = (why: string, code: number): void => {
  log(why);
  setTimeout(() => process.exit(code), 20_000).unref(); // should cleaning up itself hang
  void cleanup.run().finally(() => process.exit(code));
};
const deadline = setTimeout(
  () => abort(`deadline of ${SETTINGS.deadlineSeconds} s reached; stopping`, 1),
  SETTINGS.deadlineSeconds * 1000,
);
process.once('SIGINT', () => abort('interrupted', 130));
process.once('SIGTERM', () => abort('terminated', 143));

void main(cleanup)
  .then(
    (code) => code,
    (e: unknown) => {
      log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return 1;
    },
  )
  .then(async (code) => {
    clearTimeout(deadline);
    await cleanup.run();
    process.exit(code);
  });
