// `node dist/bench/worker-pace.js`: does the worker keep pace with intake? (#18, item 3)
//
// The built API and two worker processes (as docker-compose.yml deploys them: two replicas,
// WORKER_CONCURRENCY as configured) on their own database and Redis prefix. POST /v1/promotions
// at the API's full rate (autocannon, 50 connections) for BURST seconds, then the time until no
// promotion waits before the end of the check stage (none in `received` or `checking`). Target:
// that drain takes at most the burst's length. The policy wants one approval, so each promotion
// stops at awaiting_approval: what is measured is the check stage and its transitions (the digests
// name a registry nobody reaches; the policy asks for no check that would read it).
//
// Also measured, over the burst and its drain: the workers' CPU per promotion (from /proc) and
// their Postgres round trips per promotion (statements sent, counted in each worker by
// bench/lib-query-counter.ts), including everything else the workers do meanwhile (the outbox
// relay, the audit sealer, metrics).
//
// Settings (optional): WORKER_PACE_SECONDS=10, WORKER_PACE_WARMUP_SECONDS=2,
// WORKER_PACE_CONNECTIONS=50, WORKER_CONCURRENCY (default: the worker's own, 4),
// WORKER_PACE_CPU_PROF=<dir> (the workers run with --cpu-prof, profiles into <dir>),
// BENCH_DOC=docs/benchmarks.md|none
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { runMigrations } from '../apps/devstack/database';
import { repositoryRoot, type ServiceProcess } from '../apps/devstack/processes';
import { startIssuers } from '../apps/devstack/stack';
import { getToken } from '../test/support/oidc';
import { fmt, machineInfo, writeMarkedSection } from './lib-report';
import { developmentStack, openBenchScratch } from './lib-scratch';

const env = process.env;
const BURST_SECONDS = Number(env.WORKER_PACE_SECONDS ?? 10);
const WARMUP_SECONDS = Number(env.WORKER_PACE_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(env.WORKER_PACE_CONNECTIONS ?? 50);
/** The worker's default (libs/config) unless the environment sets it. */
const CONCURRENCY = Number(env.WORKER_CONCURRENCY ?? 4);
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const ENVIRONMENT = 'pace';
const SOURCE_REGISTRY = 'registry.staging.example.com';
const TICKS_PER_SECOND = 100;
/** How long the drain may take before the bench gives up waiting (reported as missed). */
const DRAIN_LIMIT_SECONDS = 120;

const log = (msg: string): void => console.log(`[worker-pace] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

interface QueryCounts {
  total: number;
  counts: Record<string, number>;
}

/** What a worker's lib-query-counter wrote (nothing yet: none). */
function queriesSent(file: string): QueryCounts {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as QueryCounts;
  } catch {
    return { total: 0, counts: {} };
  }
}

/** The workers' counts added up, written by each on SIGWINCH (bench/lib-query-counter.ts). */
async function allQueries(workers: ServiceProcess[], files: string[]): Promise<QueryCounts> {
  const gone = workers.find((w) => w.exited);
  if (gone) throw new Error(`${gone.name} exited:\n${gone.output().slice(-4000)}`);
  for (const [i, w] of workers.entries()) {
    rmSync(files[i], { force: true });
    w.child.kill('SIGWINCH');
  }
  const until = Date.now() + 10_000;
  while (!files.every((f) => existsSync(f))) {
    if (Date.now() > until) throw new Error('the workers did not write their query counts');
    await sleep(20);
  }
  const sum: QueryCounts = { total: 0, counts: {} };
  for (const c of files.map(queriesSent)) {
    sum.total += c.total;
    for (const [k, v] of Object.entries(c.counts)) sum.counts[k] = (sum.counts[k] ?? 0) + v;
  }
  return sum;
}

export interface PaceResult {
  concurrency: number;
  burstSeconds: number;
  accepted: number;
  rps: number;
  non2xx: number;
  /** Promotions before the end of the check stage when the burst ended. */
  waitingAtEnd: number;
  /** The most seen waiting during the burst (sampled every 250 ms). */
  waitingMax: number;
  drainSeconds: number;
  /** Promotions still waiting when the bench stopped waiting (0 when drained). */
  left: number;
  workerCpuMsPerPromotion: number;
  roundTripsPerPromotion: number;
  /** The statements behind them, most frequent first: per promotion. */
  roundTripsByStatement: Array<{ statement: string; perPromotion: number }>;
  auditPendingAtDrain: number;
}

async function main(): Promise<void> {
  const { databaseUrl, redisUrl, prefix, dataDir, db, ...scratch } = await openBenchScratch('pace');
  const issuers = await startIssuers(join(dataDir, 'issuers'));
  const stack = developmentStack({ dataDir, databaseUrl, redisUrl, prefix }, issuers, {
    LOG_LEVEL: 'warn',
    // One caller on one address: budgets it never reaches (still counted).
    RATE_LIMIT_CALLER_MAX: '1000000000',
    RATE_LIMIT_ANONYMOUS_MAX: '1000000000',
    AIRLOCK_ALLOWED_HOSTS: `127.0.0.1:*,${SOURCE_REGISTRY},registry.prod.example.com`,
  });
  const workers: ServiceProcess[] = [];
  const counterFiles = [join(dataDir, 'queries-1'), join(dataDir, 'queries-2')];
  try {
    await runMigrations(databaseUrl);
    await stack.startApi();
    // The workers log at `info` as deployed (AirlockStack waits for their `worker started` line).
    for (const [i, file] of counterFiles.entries()) {
      workers.push(
        await stack.spawnWorker(
          {
            LOG_LEVEL: 'info',
            WORKER_CONCURRENCY: String(CONCURRENCY),
            NODE_OPTIONS: [
              `--require ${resolve(repositoryRoot(), 'dist/bench/lib-query-counter.js')}`,
              ...(env.WORKER_PACE_CPU_PROF
                ? [`--cpu-prof --cpu-prof-dir=${resolve(env.WORKER_PACE_CPU_PROF)}`]
                : []),
            ].join(' '),
            BENCH_QUERY_COUNT_FILE: file,
          },
          `airlock-worker-${i + 1}`,
        ),
      );
    }

    const token = async (client: string): Promise<string> => getToken(issuers.people, client);
    const call = async (who: string, method: string, path: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await token(who)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const fourEyes = async (path: string, body: unknown): Promise<void> => {
      const change = await call('erin', 'POST', path, body);
      await call('frank', 'POST', `/v1/changes/${change.id}/approve`);
    };
    await fourEyes('/v1/environments', {
      name: ENVIRONMENT,
      sources: [{ registry: SOURCE_REGISTRY, repositories: ['acme/*'] }],
      target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
    });
    const policy = await call('erin', 'POST', `/v1/environments/${ENVIRONMENT}/policies`, {
      document: { approvals: { required: 1 } },
    });
    await call('frank', 'POST', `/v1/environments/${ENVIRONMENT}/policies/${policy.version}/activate`);
    await fourEyes('/v1/role-bindings', { role: 'requester', issuer: issuers.people, subject: 'carol' });
    const carol = await token('carol');

    const salt = randomBytes(4).toString('hex');
    let counter = 0;
    const burst = (seconds: number): Promise<autocannon.Result> =>
      autocannon({
        url: stack.apiUrl,
        connections: CONNECTIONS,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${carol}` },
        timeout: 10,
        requests: [
          {
            setupRequest: (req) => {
              counter += 1;
              const digest = `sha256:${salt}${counter.toString(16).padStart(56, '0')}`;
              return {
                ...req,
                path: '/v1/promotions',
                body: JSON.stringify({
                  artifact: `${SOURCE_REGISTRY}/acme/app@${digest}`,
                  environment: ENVIRONMENT,
                }),
              };
            },
          },
        ],
      });
    const waiting = async (): Promise<number> =>
      Number(
        (await db.query("SELECT count(*) AS n FROM promotion WHERE status IN ('received', 'checking')"))
          .rows[0].n,
      );
    const drain = async (): Promise<{ seconds: number; left: number }> => {
      const started = Date.now();
      let n = await waiting();
      while (n > 0 && Date.now() - started < DRAIN_LIMIT_SECONDS * 1000) {
        await sleep(50);
        n = await waiting();
      }
      return { seconds: (Date.now() - started) / 1000, left: n };
    };

    if (WARMUP_SECONDS > 0) {
      log(`warm-up: ${WARMUP_SECONDS} s of POST /v1/promotions, then its drain`);
      await burst(WARMUP_SECONDS);
      await drain();
    }
    // Let the sealer and the relay finish the warm-up's tail before measuring.
    for (let i = 0; i < 50; i++) {
      const { rows } = await db.query(
        'SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM audit_pending) AS n',
      );
      if (Number(rows[0].n) === 0) break;
      await sleep(200);
    }

    // Queries first: it fails with the worker's output should one have exited.
    const snapshot = async () => {
      const queries = await allQueries(workers, counterFiles);
      return {
        queries,
        promotions: Number((await db.query('SELECT count(*) AS n FROM promotion')).rows[0].n),
        cpu: workers.reduce((s, w) => s + cpuSeconds(w.child.pid), 0),
      };
    };
    const before = await snapshot();
    log(`burst: ${BURST_SECONDS} s of POST /v1/promotions at ${CONNECTIONS} connections`);
    let waitingMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        waitingMax = Math.max(waitingMax, await waiting());
        await sleep(250);
      }
    })();
    const result = await burst(BURST_SECONDS);
    sampling = false;
    await sampler;
    const waitingAtEnd = await waiting();
    waitingMax = Math.max(waitingMax, waitingAtEnd);
    const drained = await drain();
    const after = await snapshot();
    const auditPending = Number((await db.query('SELECT count(*) AS n FROM audit_pending')).rows[0].n);
    const accepted = after.promotions - before.promotions;
    const r: PaceResult = {
      concurrency: CONCURRENCY,
      burstSeconds: BURST_SECONDS,
      accepted,
      rps: accepted / BURST_SECONDS,
      non2xx: result.non2xx,
      waitingAtEnd,
      waitingMax,
      drainSeconds: drained.seconds,
      left: drained.left,
      workerCpuMsPerPromotion: ((after.cpu - before.cpu) * 1000) / Math.max(1, accepted),
      roundTripsPerPromotion: (after.queries.total - before.queries.total) / Math.max(1, accepted),
      roundTripsByStatement: Object.entries(after.queries.counts)
        .map(([statement, n]) => ({
          statement,
          perPromotion: (n - (before.queries.counts[statement] ?? 0)) / Math.max(1, accepted),
        }))
        .filter((s) => s.perPromotion >= 0.01)
        .sort((a, b) => b.perPromotion - a.perPromotion),
      auditPendingAtDrain: auditPending,
    };
    const met = r.left === 0 && r.drainSeconds <= BURST_SECONDS;
    log(
      `accepted ${accepted} (${fmt(r.rps)}/s, non-2xx ${r.non2xx}); waiting at the end ${waitingAtEnd} ` +
        `(max ${waitingMax}); drained in ${fmt(r.drainSeconds, 1)} s` +
        (r.left ? ` (${r.left} still waiting)` : '') +
        (r.drainSeconds > 0 ? `, ${fmt((r.waitingAtEnd - r.left) / r.drainSeconds)}/s` : '') +
        `; target ≤ ${BURST_SECONDS} s: ${met ? 'met' : 'MISSED'}`,
    );
    log(
      `worker CPU ${fmt(r.workerCpuMsPerPromotion, 2)} ms/promotion, ` +
        `${fmt(r.roundTripsPerPromotion, 2)} Postgres round trips/promotion (WORKER_CONCURRENCY ${CONCURRENCY}, 2 workers)`,
    );
    for (const s of r.roundTripsByStatement) log(`  ${fmt(s.perPromotion, 2)}  ${s.statement}`);
    if (r.non2xx > 0) throw new Error(`${r.non2xx} requests failed; figures not written`);
    const section = report(r, met);
    if (DOC !== 'none') {
      await writeMarkedSection(resolve(repositoryRoot(), DOC), 'worker-pace', section);
      log(`wrote the worker-pace section of ${DOC}`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    await stack.stop().catch(() => undefined);
    await issuers.stop().catch(() => undefined);
    await scratch.close();
  }
}

function report(r: PaceResult, met: boolean): string {
  const m = machineInfo();
  return `## Worker pace: the check stage against intake at full rate

${m.date}, ${m.revision}; ${m.cpus}, ${m.memory}, Node ${m.node}; the built API and two worker
processes (WORKER_CONCURRENCY ${r.concurrency} each, as deployed), Postgres and Redis on the same
machine; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} at the end (1 / 5 / 15 min). \`node dist/bench/worker-pace.js\`: ${r.burstSeconds} s
of POST /v1/promotions at ${CONNECTIONS} connections after a warm-up, a policy that wants one
approval (each promotion ends at awaiting_approval), then the time until no promotion is in
\`received\` or \`checking\`.

| | measured | target |
| --- | --: | --- |
| promotions accepted in the burst | ${fmt(r.accepted)} (${fmt(r.rps)}/s) | |
| waiting before the check stage's end when the burst ended | ${fmt(r.waitingAtEnd)} (most seen ${fmt(r.waitingMax)}) | |
| drain after the burst | ${fmt(r.drainSeconds, 1)} s${r.left ? ` (${fmt(r.left)} still waiting)` : ''} | ≤ ${r.burstSeconds} s: ${met ? 'met' : '**missed**'} |
| the check stage's pace during the drain (the API idle) | ${r.drainSeconds > 0 ? `${fmt((r.waitingAtEnd - r.left) / r.drainSeconds)}/s` : '—'} | ≥ intake (${fmt(r.rps)}/s) |
| worker CPU per promotion (both workers, burst and drain) | ${fmt(r.workerCpuMsPerPromotion, 2)} ms | |
| worker Postgres round trips per promotion | ${fmt(r.roundTripsPerPromotion, 2)} | |
| audit events still unsealed when drained | ${fmt(r.auditPendingAtDrain)} | |

Round trips per promotion by statement (a named statement by its name, others by their first
words; 0.01 and more):

| per promotion | statement |
| --: | --- |
${r.roundTripsByStatement.map((s) => `| ${fmt(s.perPromotion, 2)} | \`${s.statement.replace(/\|/g, '\\|')}\` |`).join('\n')}`;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
