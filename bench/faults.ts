// `npm run faults`: Airlock under load while its dependencies and its own processes die.
//
// It starts a Postgres cluster and a Redis of its own on free ports (never the machine's shared
// ones), the development issuers, two token-auth registries, two API processes and three workers.
// Then, one scenario at a time, it sends promotion requests at a steady rate to both APIs, injects
// one fault, recovers from it, and waits for every request a client saw acknowledged (2xx) to reach
// a status where nobody has to do anything more for it to move on: awaiting approval, promoted,
// rejected or failed. Half the requests go to an environment that stops at awaiting approval after
// a secret scan of the image, half to one that needs no approval, so they are copied to the target.
//
// After each scenario it asserts what the product brief promises: every acknowledged promotion is
// stored and leaves the working statuses within a bounded time after recovery, none is copied
// twice, no transition (and so no job's effect) happens twice, the audit chain verifies, and every
// webhook delivery of their events reaches a receiver on loopback (no committed event is lost). It
// prints a table and writes it to docs/reliability.md. Exit code 1 when any promise broke.
//
// Options: --scenarios a,b,c (default all), --seconds N of load (default 15), --rate N requests a
// second (default 40), --no-write (do not touch docs/reliability.md).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { ensureDatabase, runMigrations } from '../apps/devstack/database';
import { ensureSigningKey } from '../apps/devstack/keys';
import { repositoryRoot } from '../apps/devstack/processes';
import { developmentBootstrap, startIssuers } from '../apps/devstack/stack';
import { getToken } from '../test/support/oidc';
import { pushImage } from '../test/support/oci-images';
import { PromoterRig } from '../test/support/promoter-rig';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { AirlockProcesses, OwnPostgres, OwnRedis } from './lib-fault-cluster';
import { fmt, machineInfo, writeMarkedSection } from './lib-report';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const WORKING = ['received', 'checking', 'approved', 'promoting'];
const FAULT_AT_S = 3;
const FAULT_FOR_S = 5;
const DRAIN_LIMIT_S = 240;

interface Options {
  scenarios: string[];
  seconds: number;
  rate: number;
  write: boolean;
}

interface Outcome {
  t: number;
  api: number;
  status: number | string;
  id?: string;
}

interface Row {
  scenario: string;
  sent: number;
  acknowledged: number;
  stored: number;
  stranded: number;
  duplicates: number;
  drainSeconds: number | null;
  duringFault: string;
  byStatus: string;
  auditOk: boolean;
  /** Webhook deliveries of the acknowledged promotions' events: expected, and received by the receiver. */
  webhooks: { expected: number; received: number; requestedEvents: number };
  note: string;
}

interface World {
  pg: OwnPostgres;
  redis: OwnRedis;
  airlock: AirlockProcesses;
  db: Pool;
  ci: string;
  people: string;
  artifact: string;
  receiver: WebhookReceiver;
}

interface Scenario {
  name: string;
  what: string;
  /** Injects the fault; returns what to do to recover. */
  inject(w: World): Promise<() => Promise<void>>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'redis-kill',
    what: '`kill -9` Redis for 5 s (AOF on, so it restarts with what it had fsynced)',
    inject: async (w) => {
      await w.redis.kill9();
      return () => w.redis.up();
    },
  },
  {
    name: 'redis-wiped',
    what: '`kill -9` Redis, delete its data, start it empty after 5 s',
    inject: async (w) => {
      await w.redis.kill9();
      w.redis.wipe();
      return () => w.redis.up();
    },
  },
  {
    name: 'postgres-stop',
    what: 'Postgres stopped immediately (`-m immediate`) for 5 s',
    inject: async (w) => {
      await w.pg.stopImmediate();
      return () => w.pg.up();
    },
  },
  {
    name: 'worker-kill-checks',
    what: '`kill -9` of a worker while promotions are being checked; restarted after 5 s',
    inject: async (w) => {
      await waitForStatus(w.db, 'checking');
      await w.airlock.killWorker(0);
      return () => w.airlock.startWorker(0);
    },
  },
  {
    name: 'worker-kill-copy',
    what: '`kill -9` of a worker while promotions are being copied; restarted after 5 s',
    inject: async (w) => {
      await waitForStatus(w.db, 'promoting');
      await w.airlock.killWorker(1);
      return () => w.airlock.startWorker(1);
    },
  },
  {
    name: 'api-kill',
    what: '`kill -9` of one of the two API processes under load; restarted after 5 s',
    inject: async (w) => {
      await w.airlock.killApi(0);
      return () => w.airlock.startApi(0);
    },
  },
];

function parseOptions(argv: string[]): Options {
  const o: Options = { scenarios: SCENARIOS.map((s) => s.name), seconds: 15, rate: 40, write: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--scenarios') o.scenarios = argv[++i].split(',');
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--rate') o.rate = Number(argv[++i]);
    else if (a === '--no-write') o.write = false;
    else throw new Error(`unknown option ${a}`);
  }
  for (const s of o.scenarios) {
    if (!SCENARIOS.some((x) => x.name === s)) throw new Error(`unknown scenario ${s}`);
  }
  return o;
}

/** Waits (up to 20 s) until some promotion is in `status`, so the fault lands mid-stage. */
async function waitForStatus(db: Pool, status: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = await db.query('SELECT 1 FROM promotion WHERE status = $1::promotion_status LIMIT 1', [status]);
    if (r.rowCount) return;
    await sleep(50);
  }
}

async function call(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

/**
 * Admin changes of the set-up. A change that the API takes as a proposal (202, four eyes) is
 * approved by the second admin.
 */
async function adminChange(w: World, method: string, path: string, body: unknown): Promise<any> {
  const url = w.airlock.apis[1].url;
  const erin = await getToken(w.people, 'erin');
  const res = await call(url, method, path, erin, body);
  if (res.status === 202 && res.body?.id) {
    const frank = await getToken(w.people, 'frank');
    const ok = await call(url, 'POST', `/v1/changes/${res.body.id}/approve`, frank, {});
    if (ok.status !== 200) throw new Error(`${path} approve: ${ok.status} ${JSON.stringify(ok.body)}`);
    return ok.body;
  }
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function environment(
  w: World,
  pr: PromoterRig,
  name: string,
  policy: Record<string, unknown>,
): Promise<void> {
  await adminChange(w, 'POST', '/v1/environments', {
    name,
    sources: pr.sources(['acme/*']),
    target: pr.targetMapping(undefined, `${name}/{repository}`),
  });
  const erin = await getToken(w.people, 'erin');
  const url = w.airlock.apis[1].url;
  const v = await call(url, 'POST', `/v1/environments/${name}/policies`, erin, { document: policy });
  if (v.status !== 201) throw new Error(`policy: ${v.status} ${JSON.stringify(v.body)}`);
  const frank = await getToken(w.people, 'frank');
  const a = await call(
    url,
    'POST',
    `/v1/environments/${name}/policies/${v.body.version}/activate`,
    frank,
    {},
  );
  if (a.status !== 200) throw new Error(`activate: ${a.status} ${JSON.stringify(a.body)}`);
}

/** Steady load: `rate` requests a second for `seconds`, alternating APIs and environments. */
async function load(
  w: World,
  o: Options,
  tokens: string[],
  onSecond: (s: number) => Promise<void>,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const pending: Array<Promise<void>> = [];
  const start = Date.now();
  const total = o.seconds * o.rate;
  let second = -1;
  const ticks: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const s = Math.floor((Date.now() - start) / 1000);
    if (s !== second) {
      second = s;
      ticks.push(onSecond(s));
    }
    const api = i % w.airlock.apis.length;
    const t = (Date.now() - start) / 1000;
    const body = { artifact: w.artifact, environment: i % 2 === 0 ? 'gate' : 'auto' };
    pending.push(
      call(w.airlock.apis[api].url, 'POST', '/v1/promotions', tokens[i], body).then(
        (res) => {
          outcomes.push({
            t,
            api,
            status: res.status,
            id: res.status < 300 ? (res.body as { id?: string })?.id : undefined,
          });
        },
        (e: unknown) => {
          const cause = (e as { cause?: { code?: string } }).cause?.code;
          outcomes.push({ t, api, status: cause ?? (e as Error).name });
        },
      ),
    );
  }
  await Promise.all(pending);
  await Promise.all(ticks);
  return outcomes;
}

function describeOutcomes(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(String(o.status), (counts.get(String(o.status)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}×${n}`)
    .join(', ');
}

/** Waits until none of `ids` is in a working status; returns the seconds it took, or null. */
async function drain(db: Pool, ids: string[]): Promise<{ seconds: number | null; stranded: number }> {
  const started = Date.now();
  for (;;) {
    let stranded = Number.NaN;
    try {
      const r = await db.query(
        'SELECT count(*)::int AS n FROM promotion WHERE id = ANY($1::uuid[]) AND status::text = ANY($2::text[])',
        [ids, WORKING],
      );
      stranded = r.rows[0].n as number;
    } catch {
      // the database may still be coming back
    }
    if (stranded === 0) return { seconds: (Date.now() - started) / 1000, stranded: 0 };
    if (Date.now() - started > DRAIN_LIMIT_S * 1000) {
      return { seconds: null, stranded: Number.isNaN(stranded) ? ids.length : stranded };
    }
    await sleep(250);
  }
}

async function runScenario(w: World, o: Options, s: Scenario): Promise<Row> {
  // One CI token per request (a token's jti may create one promotion), fetched a few at a time.
  const tokens: string[] = [];
  const wanted = o.seconds * o.rate;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (tokens.length < wanted) {
        const i = tokens.push('') - 1;
        tokens[i] = await getToken(w.ci, 'ci-app');
      }
    }),
  );
  let recover: (() => Promise<void>) | undefined;
  let faultStart = 0;
  let faultEnd = 0;
  const recovering: Array<Promise<void>> = [];
  const outcomes = await load(w, o, tokens, async (second) => {
    if (second === FAULT_AT_S) {
      faultStart = second;
      recover = await s.inject(w);
    }
    if (second === FAULT_AT_S + FAULT_FOR_S && recover) {
      const r = recover;
      recover = undefined;
      faultEnd = second;
      recovering.push(r());
    }
  });
  if (recover) {
    faultEnd = o.seconds;
    recovering.push(recover());
  }
  await Promise.all(recovering);
  const acked = outcomes.filter((x) => typeof x.status === 'number' && x.status < 300 && x.id);
  const ids = acked.map((x) => x.id as string);
  const stored = (
    await w.db.query('SELECT count(*)::int AS n FROM promotion WHERE id = ANY($1::uuid[])', [ids])
  ).rows[0].n as number;
  const { seconds, stranded } = await drain(w.db, ids);
  // Copied twice, or any transition twice: one row per (promotion, from, to) is all there may be.
  const dup = await w.db.query(
    `SELECT count(*)::int AS n FROM (
       SELECT promotion_id FROM promotion_status_change WHERE promotion_id = ANY($1::uuid[])
       GROUP BY promotion_id, from_status, to_status HAVING count(*) > 1
     ) d`,
    [ids],
  );
  const copiedTwice = await w.db.query(
    `SELECT count(*)::int AS n FROM (
       SELECT subject_id FROM audit_event WHERE action = 'promotion.promoted' AND subject_id = ANY($1::text[])
       GROUP BY subject_id HAVING count(*) > 1
     ) d`,
    [ids],
  );
  const statuses = await w.db.query(
    `SELECT status::text AS status, count(*)::int AS n FROM promotion WHERE id = ANY($1::uuid[])
     GROUP BY status ORDER BY n DESC`,
    [ids],
  );
  const auditor = await getToken(w.people, 'grace');
  const verify = await call(w.airlock.apis[1].url, 'GET', '/v1/audit/verify', auditor).catch(() => ({
    status: 0,
    body: undefined,
  }));
  const during = outcomes.filter((x) => x.t >= faultStart && x.t < faultEnd + 1);
  const webhooks = await webhooksDelivered(w, ids);
  return {
    scenario: s.name,
    sent: outcomes.length,
    acknowledged: acked.length,
    stored,
    stranded,
    duplicates: (dup.rows[0].n as number) + (copiedTwice.rows[0].n as number),
    drainSeconds: seconds,
    duringFault: describeOutcomes(during),
    byStatus: statuses.rows.map((r) => `${r.status as string} ${r.n as number}`).join(', '),
    auditOk: verify.status === 200 && (verify.body as { ok?: boolean })?.ok === true,
    webhooks,
    note: s.what,
  };
}

/**
 * Waits (bounded) until the receiver holds every webhook delivery of the acknowledged promotions'
 * events, and counts: no committed event may be lost, whatever happened to Redis or a worker.
 */
async function webhooksDelivered(w: World, ids: string[]): Promise<Row['webhooks']> {
  const started = Date.now();
  for (;;) {
    let expected: string[] = [];
    let requestedEvents = 0;
    try {
      const r = await w.db.query<{ id: string; type: string }>(
        `SELECT d.id, e.type FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id
         WHERE e.subject_id = ANY($1::text[])`,
        [ids],
      );
      expected = r.rows.map((x) => `msg_${x.id}`);
      requestedEvents = r.rows.filter((x) => x.type === 'promotion.requested').length;
    } catch {
      // the database may still be coming back
    }
    const got = new Set(w.receiver.verified.map((x) => x.headers['webhook-id']));
    const received = expected.filter((id) => got.has(id)).length;
    if (
      (expected.length > 0 && received === expected.length) ||
      Date.now() - started > DRAIN_LIMIT_S * 1000
    ) {
      return { expected: expected.length, received, requestedEvents };
    }
    await sleep(250);
  }
}

function table(rows: Row[]): string {
  const head =
    '| scenario | sent | acknowledged | stored | stranded | duplicated | drained in | audit chain | webhooks delivered | clients saw during the fault | where they ended |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |';
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${fmt(r.sent)} | ${fmt(r.acknowledged)} | ${fmt(r.stored)} | ${fmt(r.stranded)} | ` +
      `${fmt(r.duplicates)} | ${r.drainSeconds === null ? `> ${DRAIN_LIMIT_S} s` : `${fmt(r.drainSeconds, 1)} s`} | ` +
      `${r.auditOk ? 'verifies' : '**broken**'} | ${fmt(r.webhooks.received)} of ${fmt(r.webhooks.expected)} | ` +
      `${r.duringFault} | ${r.byStatus} |`,
  );
  return [head, ...lines].join('\n');
}

export function broken(r: Row): string[] {
  const out: string[] = [];
  if (r.stored !== r.acknowledged) out.push(`${r.acknowledged - r.stored} acknowledged but not stored`);
  if (r.stranded > 0) out.push(`${r.stranded} stranded`);
  if (r.duplicates > 0) out.push(`${r.duplicates} duplicated`);
  if (!r.auditOk) out.push('audit chain does not verify');
  if (r.webhooks.received < r.webhooks.expected) {
    out.push(`${r.webhooks.expected - r.webhooks.received} webhook deliveries lost`);
  }
  if (r.webhooks.requestedEvents !== r.acknowledged) {
    out.push(`${r.acknowledged - r.webhooks.requestedEvents} promotion.requested events missing`);
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  // Every service child (two APIs, three workers, issuers, registries, Postgres, Redis) listens
  // for this process's exit, to die with it.
  process.setMaxListeners(64);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-faults-'));
  const cleanup: Array<() => Promise<unknown>> = [];
  let failed = false;
  try {
    process.stderr.write(`fault suite: working in ${dir}\n`);
    const pg = await OwnPostgres.start(join(dir, 'pg'));
    cleanup.push(() => pg.stop());
    const redis = await OwnRedis.start(join(dir, 'redis'));
    cleanup.push(() => redis.stop());
    const databaseUrl = await ensureDatabase(pg.adminUrl, 'airlock_faults');
    await runMigrations(databaseUrl);
    const issuers = await startIssuers(join(dir, 'issuers'));
    cleanup.push(() => issuers.stop());
    const pr = await PromoterRig.start();
    cleanup.push(() => pr.stop());
    const image = await pushImage(pr.source.directHost, 'acme/app', 'v1', {
      auth: await pr.pushAuth(pr.source, 'acme/app'),
    });

    const keyFile = join(dir, 'airlock-signing-key.pem');
    ensureSigningKey(keyFile);
    const bootstrapFile = join(dir, 'bootstrap.json');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(bootstrapFile, JSON.stringify(developmentBootstrap(issuers))),
    );
    const env: Record<string, string> = {
      AIRLOCK_MODE: 'test',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: redis.url,
      REDIS_PREFIX: `airlock-faults-${randomUUID().slice(0, 8)}`,
      AIRLOCK_SIGNING_KEY_FILE: keyFile,
      AUDIT_CHECKPOINT_FILE: join(dir, 'audit-checkpoints.jsonl'),
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
      AIRLOCK_BOOTSTRAP_FILE: bootstrapFile,
      AUTH_ALLOW_INSECURE_ISSUERS: 'true',
      AIRLOCK_ALLOWED_HOSTS: '127.0.0.1:*,localhost:*',
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      RATE_LIMIT_CALLER_MAX: '0',
      RATE_LIMIT_ANONYMOUS_MAX: '0',
      WORKER_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_RETRY_DELAY_MS: '500',
      WORKER_JOB_ATTEMPTS: '8',
      RECONCILE_INTERVAL_MS: '2000',
      RECONCILE_AFTER_MS: '5000',
      LOG_LEVEL: 'info',
    };
    const airlock = new AirlockProcesses(join(dir, 'airlock'), env);
    cleanup.push(() => airlock.stop());
    await airlock.startApis(2);
    await airlock.startWorkers(3);
    const db = new Pool({ connectionString: databaseUrl, max: 4 });
    db.on('error', () => undefined); // the cluster is stopped on purpose
    cleanup.push(() => db.end());
    const receiver = await WebhookReceiver.start();
    cleanup.push(() => receiver.stop());
    const w: World = {
      receiver,
      pg,
      redis,
      airlock,
      db,
      ci: issuers.ci,
      people: issuers.people,
      artifact: `${pr.source.host}/acme/app@${image.digest}`,
    };
    // Credential profiles may name only a trusted issuer: the registries' token issuer.
    await adminChange(w, 'POST', '/v1/trusted-issuers', {
      issuer: pr.issuer,
      kind: 'human',
      audience: 'airlock-credential-issuer-only',
    });
    await environment(w, pr, 'gate', { approvals: { required: 1 }, scans: { secrets: {} } });
    await environment(w, pr, 'auto', { approvals: { required: 0 } });
    // Every acknowledged promotion's events go to a receiver on loopback: none may be lost.
    const subscription = await call(
      w.airlock.apis[1].url,
      'POST',
      '/v1/webhooks',
      await getToken(w.people, 'erin'),
      {
        url: receiver.url,
        eventTypes: [
          'promotion.requested',
          'promotion.awaiting_approval',
          'promotion.promoted',
          'promotion.failed',
        ],
        environments: ['gate', 'auto'],
      },
    );
    if (subscription.status !== 201) {
      throw new Error(`webhook subscription: ${subscription.status} ${JSON.stringify(subscription.body)}`);
    }
    receiver.secrets = [(subscription.body as { secret: string }).secret];

    const rows: Row[] = [];
    for (const name of o.scenarios) {
      const s = SCENARIOS.find((x) => x.name === name) as Scenario;
      process.stderr.write(`fault suite: ${s.name}: ${s.what}\n`);
      const row = await runScenario(w, o, s);
      rows.push(row);
      const problems = broken(row);
      process.stderr.write(
        `fault suite: ${s.name}: ${row.acknowledged} acknowledged, ${row.stranded} stranded, ` +
          `${row.duplicates} duplicated${problems.length ? ` — BROKEN: ${problems.join('; ')}` : ''}\n`,
      );
      if (problems.length) failed = true;
    }
    const out = table(rows);
    process.stdout.write(`\n${out}\n`);
    if (o.write) {
      const info = machineInfo();
      const section =
        `Measured ${info.date} on ${info.cpus}, ${info.memory}, Node ${info.node}, at ${info.revision}: ` +
        `${o.rate} requests a second for ${o.seconds} s per scenario to two API processes, three workers ` +
        `(concurrency 4), fault at ${FAULT_AT_S} s for ${FAULT_FOR_S} s; half the requests stop at awaiting ` +
        `approval after a secret scan, half are copied to the target registry.\n\n` +
        SCENARIOS.filter((s) => o.scenarios.includes(s.name))
          .map((s) => `- **${s.name}**: ${s.what}.`)
          .join('\n') +
        `\n\n${out}\n`;
      await writeMarkedSection(join(repositoryRoot(), 'docs', 'reliability.md'), 'faults', section);
    }
  } catch (e) {
    failed = true;
    process.stderr.write(`fault suite failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    if (!failed) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`fault suite: logs kept in ${dir}\n`);
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) void main();
