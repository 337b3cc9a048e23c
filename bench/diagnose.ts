// In-process measurements behind the HTTP figures (BENCH_DIAGNOSE=1 in bench/run.ts): the cost of
// each promotion repository call against the seeded database, next to the one statement the floor
// runs.
// CPU per call is the bench process's own CPU time, so it does not depend on what else runs.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { timeOrderedUuid } from '../libs/core/common/time-ordered-id';
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
    await run('detail: PromotionRepository.detail (one prepared statement, names from memory)', 10, () =>
      repo.detail(id()),
    );
    await run('detail: floor, SELECT * by primary key', 10, () =>
      ds.query('SELECT * FROM promotion WHERE id = $1', [id()]),
    );
    await run('list: PromotionRepository.list (one prepared statement)', 10, () =>
      repo.list({ beforeSeq: seq(), limit: 51 }),
    );
    await run('list: floor, raw SELECT * keyset page', 10, () =>
      ds.query('SELECT * FROM promotion WHERE seq < $1 ORDER BY seq DESC LIMIT 51', [seq()]),
    );

    // Writes: the intake statement (prepared), beside the floor's one-row insert.
    const record = (): NewPromotion => ({
      id: timeOrderedUuid(),
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
    await run('create: PromotionStateMachine.create (one prepared statement)', 10, () =>
      stateMachine.create(record()),
    );
    await run('create: floor, one INSERT', 10, () =>
      ds.query('INSERT INTO bench_floor (id, artifact, environment, created_at) VALUES ($1, $2, $3, now())', [
        randomUUID(),
        'registry.staging.example.com/acme/app@sha256:x',
        'bench',
      ]),
    );
  } finally {
    await ds.destroy();
  }
  return out;
}
