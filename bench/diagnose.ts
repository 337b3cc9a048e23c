// In-process measurements behind the HTTP figures (BENCH_DIAGNOSE=1 in bench/run.ts): the cost of
// each promotion repository call against the seeded database, next to the one statement the floor
// runs and next to a one-statement alternative, and the cost of the NOTIFY triggers on writes.
// CPU per call is the bench process's own CPU time, so it does not depend on what else runs.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../libs/core/database/data-source';
import { PromotionRepository } from '../libs/core/promotion/promotion.repository';
import { type NewPromotion, PromotionStateMachine } from '../libs/core/promotion/promotion-state-machine';
import { PromotionTransitionRepository } from '../libs/core/promotion/promotion-transitions.repository';
import { type WakeBus } from '../libs/jobs';

export interface DiagnoseRow {
  what: string;
  callsPerSecond: number;
  cpuMsPerCall: number;
  meanMs: number;
}

/** Runs `fn` from `concurrency` loops for `seconds`; calls/s, this process's CPU ms per call. */
async function measure(
  what: string,
  seconds: number,
  concurrency: number,
  fn: () => Promise<unknown>,
): Promise<DiagnoseRow> {
  // Warm-up: plans cached, JIT warm.
  const warmUntil = Date.now() + 500;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmUntil) await fn();
    }),
  );
  let calls = 0;
  let busy = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const s = process.hrtime.bigint();
        await fn();
        busy += Number(process.hrtime.bigint() - s) / 1e6;
        calls += 1;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    what,
    callsPerSecond: calls / elapsed,
    cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls,
    meanMs: busy / calls,
  };
}

/** One statement for GET /v1/promotions/:id: the row, its names, and its children as JSON. */
const DETAIL_ONE_STATEMENT = `
  SELECT p.*, e.name AS environment_name, pv.version AS policy_version,
    COALESCE((SELECT json_agg(c ORDER BY c.kind) FROM promotion_check c WHERE c.promotion_id = p.id), '[]') AS checks,
    COALESCE((SELECT json_agg(a ORDER BY a.created_at) FROM approval a WHERE a.promotion_id = p.id), '[]') AS approvals,
    COALESCE((SELECT json_agg(h ORDER BY h.id) FROM promotion_status_change h WHERE h.promotion_id = p.id), '[]')
      AS history
  FROM promotion p JOIN environment e ON e.id = p.environment_id
  JOIN policy_version pv ON pv.id = p.policy_version_id
  WHERE p.id = $1`;

/** One statement for a list page: the rows with the policy version number joined in. */
const LIST_ONE_STATEMENT = `
  SELECT p.*, pv.version AS policy_version FROM promotion p
  JOIN policy_version pv ON pv.id = p.policy_version_id
  WHERE p.seq < $1 ORDER BY p.seq DESC LIMIT 51`;

export async function diagnose(o: {
  databaseUrl: string;
  detailIds: string[];
  rows: number;
  environmentId: string;
  requester: { kind: 'human'; issuer: string; subject: string };
  seconds?: number;
  log: (msg: string) => void;
}): Promise<DiagnoseRow[]> {
  const seconds = o.seconds ?? 2;
  const ds = new DataSource({ ...dataSourceOptions(o.databaseUrl, 10), migrations: [] });
  await ds.initialize();
  // No relay to wake in this in-process measurement.
  const noWake = { wake: (): void => undefined } as unknown as WakeBus;
  const repo = new PromotionRepository(ds);
  const stateMachine = new PromotionStateMachine(new PromotionTransitionRepository(ds), noWake);
  const id = (): string => o.detailIds[Math.floor(Math.random() * o.detailIds.length)];
  const seq = (): string => String(1000 + Math.floor(Math.random() * (o.rows - 1000)));
  const out: DiagnoseRow[] = [];
  const closers: Array<() => Promise<void>> = [];
  const run = async (what: string, concurrency: number, fn: () => Promise<unknown>): Promise<void> => {
    const row = await measure(what, seconds, concurrency, fn);
    o.log(
      `  ${what}: ${Math.round(row.callsPerSecond)}/s, ${row.cpuMsPerCall.toFixed(3)} CPU ms/call, ` +
        `${row.meanMs.toFixed(2)} ms mean`,
    );
    out.push(row);
  };
  try {
    // Reads, one at a time per pool connection (10): CPU per call is what matters here.
    await run('detail: PromotionRepository.detail (5 statements, 4 via TypeORM find)', 10, () =>
      repo.detail(id()),
    );
    await run('detail: one statement with json_agg children (reference)', 10, () =>
      ds.query(DETAIL_ONE_STATEMENT, [id()]),
    );
    await run('detail: floor, SELECT * by primary key', 10, () =>
      ds.query('SELECT * FROM promotion WHERE id = $1', [id()]),
    );
    await run('list: PromotionRepository.list', 10, () => repo.list({ beforeSeq: seq(), limit: 51 }));
    await run('list: one raw statement joining policy_version (reference)', 10, () =>
      ds.query(LIST_ONE_STATEMENT, [seq()]),
    );
    await run('list: floor, raw SELECT * keyset page', 10, () =>
      ds.query('SELECT * FROM promotion WHERE seq < $1 ORDER BY seq DESC LIMIT 51', [seq()]),
    );

    // Writes: the create statement with and without the NOTIFY triggers (this database only).
    const record = (): NewPromotion => ({
      id: randomUUID(),
      environmentId: o.environmentId,
      sourceRegistry: 'registry.staging.example.com',
      sourceRepository: 'acme/app',
      digest: `sha256:${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`,
      tag: null,
      targetRegistry: 'registry.prod.example.com',
      targetRepository: 'prod/acme/app',
      requester: o.requester,
      requesterKey: `${o.requester.subject}@${o.requester.issuer}`,
      claims: {},
      metadata: {},
      tokenIssuer: null,
      tokenJti: null,
      idempotencyKey: null,
      requestHash: 'f'.repeat(64),
    });
    await run('create: PromotionStateMachine.create (NOTIFY triggers on)', 10, () =>
      stateMachine.create(record()),
    );
    // The same statement and parameters, prepared once per connection (pg named statement): no
    // 2 kB of SQL text sent, parsed and planned per request.
    let captured: { sql: string; params: unknown[] } = { sql: '', params: [] };
    const capture = new PromotionStateMachine(
      new PromotionTransitionRepository({
        driver: {
          master: {
            query: async (q: { text: string; values: unknown[] }) => {
              captured = { sql: q.text, params: q.values };
              return { rows: [{ policy_sha256: '', created_at: new Date(), policy_version: 1 }] };
            },
          },
        },
      } as unknown as DataSource),
      noWake,
    );
    const pool = new Pool({ connectionString: o.databaseUrl, max: 10 });
    closers.push(() => pool.end());
    const prepared = async (): Promise<unknown> => {
      // create() hands its statement to query() before its first await: take it right away.
      const captureDone = capture.create(record());
      const mine = captured;
      await captureDone;
      return pool.query({ name: 'bench-create-promotion', text: mine.sql, values: mine.params });
    };
    await run('create: the same statement, prepared (pg named statement)', 10, prepared);
    await ds.query('ALTER TABLE outbox DISABLE TRIGGER outbox_notify');
    await ds.query('ALTER TABLE audit_pending DISABLE TRIGGER audit_pending_notify');
    try {
      await run('create: PromotionStateMachine.create (NOTIFY triggers off)', 10, () =>
        stateMachine.create(record()),
      );
      await run('create: prepared and NOTIFY triggers off', 10, prepared);
    } finally {
      await ds.query('ALTER TABLE outbox ENABLE TRIGGER outbox_notify');
      await ds.query('ALTER TABLE audit_pending ENABLE TRIGGER audit_pending_notify');
    }
    await run('create: floor, one INSERT', 10, () =>
      ds.query('INSERT INTO bench_floor (id, artifact, environment, created_at) VALUES ($1, $2, $3, now())', [
        randomUUID(),
        'registry.staging.example.com/acme/app@sha256:x',
        'bench',
      ]),
    );
  } finally {
    for (const close of closers) await close();
    await ds.destroy();
  }
  return out;
}
