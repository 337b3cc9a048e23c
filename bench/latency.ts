// `node dist/bench/latency.js`: end-to-end latency of one promotion on an idle stack (#18, item 5).
//
// The development stack as scripts/start.sh runs it (apps/devstack): the two development issuers,
// two token-auth registries (Debian docker-registry), the signed sample image, the chain
// dev → staging → production with the development policies, the built API and two worker
// processes. The sample is promoted to dev once (staging takes only what dev promoted), then RUNS
// times, one after another:
//   - request → awaiting_approval: a CI workload requests the sample into staging (one sign-off,
//     signed by the release key); from just before the POST to the history row of
//     checking → awaiting_approval (its transaction's clock: same machine);
//   - last approval → promoted: an approver approves (staging's only, so the last); from just
//     before the POST to the history row of promoting → promoted. The copy's share is the time
//     from approved → promoting to promoted (the copy and Airlock's attestation) over the whole.
// Targets: p50 < 500 ms each.
//
// Settings (optional): LATENCY_RUNS=50, WORKER_CONCURRENCY (the worker's default otherwise),
// BENCH_DOC=docs/benchmarks.md|none
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runMigrations } from '../apps/devstack/database';
import { freePort, repositoryRoot, type ServiceProcess } from '../apps/devstack/processes';
import { startDevRegistry } from '../apps/devstack/registries';
import { devToken, PROMOTER, REGISTRY_SERVICE, seedDevelopment } from '../apps/devstack/seed';
import { startIssuers } from '../apps/devstack/stack';
import { api } from './lib-api';
import { fmt, machineInfo, percentile, writeMarkedSection } from './lib-report';
import { developmentStack, openBenchScratch } from './lib-scratch';

const env = process.env;
const RUNS = Math.max(1, Number(env.LATENCY_RUNS ?? 50));
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const TARGET_P50_MS = 500;
/** Bound on one wait (a promotion stuck somewhere fails the bench rather than hanging it). */
const WAIT_MS = 60_000;

const log = (msg: string): void => console.log(`[latency] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  /** Request → awaiting_approval, ms. */
  toAwaiting: number;
  /** Last approval → promoted, ms. */
  toPromoted: number;
  /** Of toPromoted: approved → promoting → promoted (the copy stage). */
  copy: number;
}

async function main(): Promise<void> {
  const { databaseUrl, redisUrl, prefix, dataDir, db, ...scratch } = await openBenchScratch('latency');
  const stops: Array<() => Promise<void>> = [];
  const workers: ServiceProcess[] = [];
  try {
    await runMigrations(databaseUrl);
    const registryCert = join(dataDir, 'registry-token-signer.pem');
    const issuers = await startIssuers(join(dataDir, 'issuers'), {}, registryCert);
    stops.push(() => issuers.stop());
    const registry = async (name: string) =>
      startDevRegistry({
        dataDir: join(dataDir, 'registries'),
        name,
        port: await freePort(),
        service: REGISTRY_SERVICE,
        issuer: issuers.people,
        rootCertBundle: registryCert,
      });
    const staging = await registry('registry-staging');
    stops.push(() => staging.proc.stop());
    const prod = await registry('registry-prod');
    stops.push(() => prod.proc.stop());

    const stack = developmentStack({ dataDir, databaseUrl, redisUrl, prefix }, issuers, {
      LOG_LEVEL: 'info',
      AIRLOCK_ALLOWED_HOSTS: [staging.host, prod.host, issuers.ci, issuers.people]
        .map((h) => new URL(h.includes('://') ? h : `http://${h}`).host)
        .join(','),
      ...(env.WORKER_CONCURRENCY ? { WORKER_CONCURRENCY: env.WORKER_CONCURRENCY } : {}),
    });
    writeFileSync(join(stack.secretsDir, PROMOTER.clientId), PROMOTER.secret, { mode: 0o600 });
    stops.push(() => stack.stop());
    await stack.startApi();
    // Two workers, as docker-compose.yml deploys them.
    for (const name of ['airlock-worker', 'airlock-worker-2'])
      workers.push(await stack.spawnWorker({}, name));
    stops.push(async () => void (await Promise.all(workers.map((w) => w.stop()))));

    const { sampleDigest } = await seedDevelopment({
      apiUrl: stack.apiUrl,
      peopleIssuer: issuers.people,
      stagingHost: staging.host,
      prodHost: prod.host,
      releaseKeyFile: join(dataDir, 'release-signing-key.pem'),
    });
    const artifact = `${staging.host}/acme/app@${sampleDigest}`;
    log(`sample ${artifact}`);

    const a = api(stack.apiUrl);
    // A CI token is good for one request (its jti); tokens are fetched before the clock starts.
    const ciToken = (): Promise<string> =>
      devToken(issuers.ci, 'ci-app', 'ci-app-secret', { resource: 'airlock' });
    const approverToken = (): Promise<string> =>
      devToken(issuers.people, 'alice', 'alice-secret', { resource: 'airlock' });
    /** When the promotion's history shows `to` (ms since the epoch), polling the database. */
    const reached = async (promotionId: string, to: string): Promise<number> => {
      const until = Date.now() + WAIT_MS;
      for (;;) {
        const { rows } = await db.query<{ to_status: string; at: number }>(
          `SELECT to_status, (extract(epoch FROM at) * 1000)::float8 AS at
           FROM promotion_status_change WHERE promotion_id = $1 ORDER BY id`,
          [promotionId],
        );
        const hit = rows.find((r) => r.to_status === to);
        if (hit) return hit.at;
        const last = rows.at(-1)?.to_status;
        if (last && ['rejected', 'failed', 'cancelled', 'expired'].includes(last))
          throw new Error(`promotion ${promotionId} ended ${last}, not ${to}`);
        if (Date.now() > until) throw new Error(`promotion ${promotionId} is ${last}, not ${to}`);
        await sleep(10);
      }
    };

    // Once into dev (staging takes only what dev promoted); also warms every path up.
    const first = await a.call('POST', '/v1/promotions', await ciToken(), { artifact, environment: 'dev' });
    await reached(first.id, 'promoted');
    log('the sample is in dev');

    const runs: Run[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const requester = await ciToken();
      const approver = await approverToken();
      const requestedAt = Date.now();
      const created = await a.call('POST', '/v1/promotions', requester, { artifact, environment: 'staging' });
      const awaitingAt = await reached(created.id, 'awaiting_approval');
      await sleep(50); // the approver is a person: the API and workers are idle again by then
      const approvedAt = Date.now();
      await a.call('POST', `/v1/promotions/${created.id}/approvals`, approver, {
        decision: 'approve',
        digest: sampleDigest,
      });
      const promotedAt = await reached(created.id, 'promoted');
      const promotingAt = await reached(created.id, 'promoting');
      const run = {
        toAwaiting: awaitingAt - requestedAt,
        toPromoted: promotedAt - approvedAt,
        copy: promotedAt - promotingAt,
      };
      // The first staging run is a warm-up (the first copy into staging/ is a cold one).
      if (i > 0) runs.push(run);
      await sleep(50);
    }
    const summary = summarise(runs);
    log(
      `request → awaiting_approval p50 ${fmt(summary.toAwaiting.p50)} ms p99 ${fmt(summary.toAwaiting.p99)} ms; ` +
        `last approval → promoted p50 ${fmt(summary.toPromoted.p50)} ms p99 ${fmt(summary.toPromoted.p99)} ms ` +
        `(copy ${fmt(summary.copyShare * 100)}% of it); target p50 < ${TARGET_P50_MS} ms each: ` +
        `${summary.toAwaiting.p50 < TARGET_P50_MS ? 'met' : 'MISSED'} / ${summary.toPromoted.p50 < TARGET_P50_MS ? 'met' : 'MISSED'}`,
    );
    const section = report(summary);
    if (DOC !== 'none') {
      await writeMarkedSection(resolve(repositoryRoot(), DOC), 'latency', section);
      log(`wrote the latency section of ${DOC}`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await scratch.close();
  }
}

interface Summary {
  runs: number;
  toAwaiting: { p50: number; p99: number };
  toPromoted: { p50: number; p99: number };
  copy: { p50: number; p99: number };
  /** The copy's share of last approval → promoted, from the medians. */
  copyShare: number;
}

function summarise(runs: Run[]): Summary {
  const of = (k: keyof Run) => ({
    p50: percentile(
      runs.map((r) => r[k]),
      50,
    ),
    p99: percentile(
      runs.map((r) => r[k]),
      99,
    ),
  });
  const toPromoted = of('toPromoted');
  const copy = of('copy');
  return {
    runs: runs.length,
    toAwaiting: of('toAwaiting'),
    toPromoted,
    copy,
    copyShare: copy.p50 / toPromoted.p50,
  };
}

function report(s: Summary): string {
  const m = machineInfo();
  const met = (v: number): string => (v < TARGET_P50_MS ? 'met' : '**missed**');
  return `## End-to-end latency: request → awaiting approval, last approval → promoted

${m.date}, ${m.revision}; ${m.cpus}, ${m.memory}, Node ${m.node}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} at the end (1 / 5 / 15 min). \`node dist/bench/latency.js\`: the development stack
(apps/devstack: two token-auth registries, the signed sample image, the chain dev → staging →
production with its development policies), the built API and two worker processes. The sample,
once promoted to dev, is requested into staging (signature check, one sign-off) by a CI workload
and approved by a release manager, ${s.runs} times one after another after one warm-up run.
Times run from just before the request (or the approval) to the history row of the status reached.

| | p50 | p99 | target |
| --- | --: | --: | --- |
| request → awaiting_approval | ${fmt(s.toAwaiting.p50)} ms | ${fmt(s.toAwaiting.p99)} ms | p50 < ${TARGET_P50_MS} ms: ${met(s.toAwaiting.p50)} |
| last approval → promoted | ${fmt(s.toPromoted.p50)} ms | ${fmt(s.toPromoted.p99)} ms | p50 < ${TARGET_P50_MS} ms: ${met(s.toPromoted.p50)} |
| of which the copy (promoting → promoted: copy and attestation) | ${fmt(s.copy.p50)} ms | ${fmt(s.copy.p99)} ms | |

The copy takes ${fmt(s.copyShare * 100)}% of last approval → promoted at the median.`;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
