// `node dist/bench/webhook-lag.js`: how long a webhook takes from its event's commit to the
// receiver, idle and under a burst of 1,000 events.
//
// - A built worker (the `webhooks` queue and the outbox relay) against its own database and Redis
//   prefix; one subscription to a receiver on loopback (node:http, answering 204 after verifying
//   the signature with `standardwebhooks`, as a real receiver would).
// - Events are written by the production SQL (libs/core/webhook/webhook-event-sql.ts, the same
//   CTEs the state machine runs in a transition's statement): one statement for a single event, one
//   for a burst of 1,000, then the relay is woken as the state machine does after a commit.
// - Lag of one delivery: the receiver's clock when the request arrived minus the event row's
//   `occurred_at` (its transaction's time; same machine, same clock).
//
// Settings (optional): WEBHOOK_BENCH_BURST=1000, WEBHOOK_BENCH_IDLE=30,
// WEBHOOK_BENCH_CONCURRENCY=4,16 (WORKER_CONCURRENCY of each run), BENCH_DOC=docs/benchmarks.md|none
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import { runMigrations } from '../apps/devstack/database';
import { startIssuers } from '../apps/devstack/stack';
import { webhookEventCtes } from '../libs/core/webhook/webhook-event-sql';
import { fmt, machineInfo, percentile, writeMarkedSection } from './lib-report';
import { developmentStack, openBenchScratch } from './lib-scratch';

const env = process.env;
const BURST = Number(env.WEBHOOK_BENCH_BURST ?? 1000);
const IDLE = Number(env.WEBHOOK_BENCH_IDLE ?? 30);
const CONCURRENCY = (env.WEBHOOK_BENCH_CONCURRENCY ?? '4,16').split(',').map(Number);
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const log = (msg: string): void => console.log(`[webhook-lag] ${msg}`);

/** The receiver: verifies, records when each webhook-id first arrived, answers 204. */
class Receiver {
  readonly arrivals = new Map<string, number>();
  failures = 0;
  private readonly server: Server;
  private readonly wh = new Webhook(SECRET);
  private waiters: Array<() => void> = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        try {
          this.wh.verify(Buffer.concat(chunks), req.headers as Record<string, string>);
        } catch {
          this.failures++;
        }
        const id = String(req.headers['webhook-id']);
        if (!this.arrivals.has(id)) this.arrivals.set(id, at);
        res.writeHead(204).end();
        this.waiters.forEach((w) => w());
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async until(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.arrivals.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.arrivals.size} of ${count} deliveries arrived`);
      await new Promise<void>((ok) => {
        this.waiters.push(ok);
        setTimeout(ok, 200);
      });
      this.waiters = [];
    }
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

/** Writes `n` policy.proposed events in one statement, as production writes events. */
const BURST_SQL = `WITH src AS (
    SELECT 'policy.proposed'::text AS type, NULL::text AS environment, 'environment'::text AS subject_type,
           'bench-' || g AS subject_id,
           jsonb_build_object('actor', jsonb_build_object('kind', 'human', 'issuer', 'bench', 'subject', 'erin'),
             'details', jsonb_build_object('environment', 'bench', 'version', g, 'sha256', md5(g::text))) AS facts
    FROM generate_series(1, $1::int) AS g
  )${webhookEventCtes({
    from: 'src',
    type: 'src.type',
    environment: 'src.environment',
    subjectType: 'src.subject_type',
    subjectId: 'src.subject_id',
    facts: 'src.facts',
  })}
  SELECT count(*)::int AS n FROM wh_dl`;

interface RunResult {
  concurrency: number;
  idle: number[];
  burst: number[];
  burstWallMs: number;
  verifyFailures: number;
}

async function run(concurrency: number): Promise<RunResult> {
  const { databaseUrl, redisUrl, prefix, dataDir, db, redis, ...scratch } =
    await openBenchScratch('webhooks');
  const receiver = new Receiver();
  const issuers = await startIssuers(join(dataDir, 'issuers'));
  const stack = developmentStack({ dataDir, databaseUrl, redisUrl, prefix }, issuers, {
    LOG_LEVEL: 'info',
    WORKER_QUEUES: 'webhooks',
    WORKER_CONCURRENCY: String(concurrency),
  });
  try {
    await runMigrations(databaseUrl);
    const url = await receiver.start();
    await db.query(
      `INSERT INTO webhook_subscription (url, event_types, format, secret, created_by)
       VALUES ($1, '{policy.proposed}', 'standard', $2, '{"kind":"human","issuer":"bench","subject":"erin"}')`,
      [url, SECRET],
    );
    await stack.startWorker();
    const wake = (): Promise<number> => redis.publish(`${prefix}:wake:outbox`, '');

    // Idle: one event at a time, each delivered before the next is written.
    for (let i = 0; i < IDLE; i++) {
      await db.query(BURST_SQL, [1]);
      await wake();
      await receiver.until(i + 1, 30_000);
    }
    const idle = await lags(db, receiver, 0);

    // A burst of BURST events in one commit.
    const started = Date.now();
    await db.query(BURST_SQL, [BURST]);
    await wake();
    await receiver.until(IDLE + BURST, 600_000);
    const burstWallMs = Date.now() - started;
    const burst = await lags(db, receiver, IDLE);
    return { concurrency, idle, burst, burstWallMs, verifyFailures: receiver.failures };
  } finally {
    await stack.stop().catch(() => undefined);
    await issuers.stop().catch(() => undefined);
    await receiver.stop();
    await scratch.close();
  }
}

/** Lag (ms) of every delivery after the first `skip` events, in event order. */
async function lags(db: Pool, receiver: Receiver, skip: number): Promise<number[]> {
  const rows = (
    await db.query<{ id: string; occurred: string }>(
      `SELECT d.id, (extract(epoch FROM e.occurred_at) * 1000)::text AS occurred
       FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id ORDER BY e.id OFFSET $1`,
      [skip],
    )
  ).rows;
  return rows.map((r) => (receiver.arrivals.get(`msg_${r.id}`) ?? Number.NaN) - Number(r.occurred));
}

function report(results: RunResult[]): string {
  const m = machineInfo();
  const row = (r: RunResult, which: 'idle' | 'burst'): string => {
    const v = r[which];
    const p = (q: number): string => fmt(percentile(v, q));
    const extra =
      which === 'burst' ? `${fmt(r.burstWallMs)} ms (${fmt((BURST / r.burstWallMs) * 1000)}/s)` : '—';
    return `| ${r.concurrency} | ${which === 'idle' ? `${IDLE} single events` : `${BURST} in one commit`} | ${p(50)} | ${p(90)} | ${p(99)} | ${fmt(Math.max(...v))} | ${extra} |`;
  };
  return `## Webhook delivery lag

From an event's commit to its arrival at a receiver on loopback that verifies the signature
(\`standardwebhooks\`) and answers 204: the outbox relay, BullMQ (\`webhooks\` queue), the worker's
delivery (load, build, sign, check the host, POST, record the attempt). Events are written by the
production SQL; the relay is woken after the commit as the state machine does. \`bench/webhook-lag.ts\`,
${m.date}, ${m.revision}, ${m.cpus}, ${m.memory}, Node ${m.node}; one worker process, Postgres and
Redis on the same machine; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} at the end (1 / 5 / 15 min: other work shared the cores).

| WORKER_CONCURRENCY | events | p50 ms | p90 ms | p99 ms | max ms | burst drained in |
| -----------------: | ------ | -----: | -----: | -----: | -----: | ---------------- |
${results.flatMap((r) => [row(r, 'idle'), row(r, 'burst')]).join('\n')}

Signature failures at the receiver: ${results.reduce((n, r) => n + r.verifyFailures, 0)}.
Under a burst the lag is queueing: the last delivery waits for the ones before it, so p99 is close
to the time the whole burst takes, and the burst's rate is bounded by the worker's concurrency and
the per-delivery database work (one statement to start the attempt and load what it needs, one to
record a success).
A single event waits for the relay's wake-up (Redis pub/sub) and one job; a lost wake-up costs at
most the relay's one-second poll.`;
}

async function main(): Promise<void> {
  const results: RunResult[] = [];
  for (const c of CONCURRENCY) {
    log(`WORKER_CONCURRENCY=${c}: ${IDLE} idle events, then a burst of ${BURST}`);
    const r = await run(c);
    log(
      `idle p50 ${fmt(percentile(r.idle, 50))} ms p99 ${fmt(percentile(r.idle, 99))} ms; burst p50 ${fmt(percentile(r.burst, 50))} ms p99 ${fmt(percentile(r.burst, 99))} ms, drained in ${fmt(r.burstWallMs)} ms`,
    );
    results.push(r);
  }
  const section = report(results);
  console.log(section);
  if (DOC !== 'none') await writeMarkedSection(DOC, 'webhook-lag', section);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
