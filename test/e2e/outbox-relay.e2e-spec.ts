import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '../../libs/jobs';
import { Rig } from '../support/rig';
import { TcpProxy } from '../support/tcp-proxy';
import { testEnv } from '../support/test-env';
import { eventually } from '../support/eventually';

/**
 * The outbox relay of a real worker: a burst of committed rows becomes one job each, enqueued in
 * outbox order (so a promotion's jobs keep their order), and a Postgres connection that drops
 * while the relay holds its claim (waiting on Redis) costs a retry, not the worker, and no row.
 * The worker consumes no queue the rows name (only `maintenance`), so the jobs stay waiting where
 * the test can read them.
 */
describe('outbox relay', () => {
  let pg: TcpProxy;
  let redis: TcpProxy;
  let rig: Rig;
  let checks: Queue;

  /** Commits `perPromotion` rows for each of `promotions` promotions, interleaved, in one statement. */
  async function commitRows(tag: string, promotions: number, perPromotion: number): Promise<string[]> {
    const ids = Array.from({ length: promotions }, () => randomUUID());
    await rig.sql(
      `INSERT INTO outbox (job_name, job_id, payload)
       SELECT $1, $2 || '-' || p.i || '-' || n.j, jsonb_build_object('promotionId', ($3::uuid[])[p.i])
       FROM generate_series(1, $4::int) AS n(j), generate_series(1, array_length($3::uuid[], 1)) AS p(i)
       ORDER BY n.j, p.i`,
      [JobName.RunChecks, tag, ids, perPromotion],
    );
    return ids;
  }

  /** The waiting check jobs with this tag, oldest first, as [promotion, row number]. */
  async function waitingJobs(tag: string): Promise<Array<{ jobId: string; promotionId: string }>> {
    // Oldest first (BullMQ reads its wait list from the end new jobs are not pushed at).
    const jobs = await checks.getWaiting(0, -1);
    return jobs
      .filter((j) => j.id?.startsWith(`${tag}-`))
      .map((j) => ({ jobId: j.id as string, promotionId: (j.data as { promotionId: string }).promotionId }));
  }

  /** Every promotion's jobs came in the order of its rows (the row number ends the job id). */
  function expectInOrderPerPromotion(jobs: Array<{ jobId: string; promotionId: string }>): void {
    const seen = new Map<string, number[]>();
    for (const j of jobs)
      seen.set(j.promotionId, [...(seen.get(j.promotionId) ?? []), Number(j.jobId.split('-').pop())]);
    for (const numbers of seen.values()) expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  }

  const mineLeft = async (tag: string): Promise<number> =>
    (
      await rig.sql<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE job_id LIKE $1 || '-%'", [
        tag,
      ])
    )[0].n;

  beforeAll(async () => {
    const databaseUrl = process.env.AIRLOCK_TEST_DATABASE_URL as string;
    pg = await TcpProxy.for(databaseUrl);
    redis = await TcpProxy.for(testEnv().redisUrl);
    rig = await Rig.start({
      DATABASE_URL: pg.url(databaseUrl),
      REDIS_URL: redis.url(testEnv().redisUrl),
      WORKER_QUEUES: QueueName.Maintenance,
      // Long enough that the relay is seen holding its claim while Redis hangs.
      DEPENDENCY_TIMEOUT_MS: '5000',
    });
    checks = new Queue(QueueName.Checks, { connection: rig.redis, prefix: rig.prefix });
  });

  afterAll(async () => {
    redis?.resume();
    await pg?.restore();
    await checks?.close();
    await rig?.stop();
    await pg?.stop();
    await redis?.stop();
  });

  it('turns a burst of rows into one job each, in order per promotion', async () => {
    const tag = `burst${randomBytes(3).toString('hex')}`;
    const promotions = await commitRows(tag, 40, 10);
    // Woken as a writer wakes it (the relay also polls every second).
    await rig.redis.publish(`${rig.prefix}:wake:outbox`, '');
    await eventually('every row relayed', async () => (await mineLeft(tag)) === 0);
    const jobs = await waitingJobs(tag);
    expect(jobs).toHaveLength(400);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(400);
    expect(new Set(jobs.map((j) => j.promotionId))).toEqual(new Set(promotions));
    expectInOrderPerPromotion(jobs);
  });

  it('survives its Postgres connection dropping while it holds a claim, and relays the rows once', async () => {
    const tag = `drop${randomBytes(3).toString('hex')}`;
    // Redis hangs: the relay claims the rows, then waits on the enqueue with the claim open.
    redis.stall();
    try {
      await commitRows(tag, 5, 4);
      await eventually('the relay holding its claim', async () => {
        const holding = await rig.sql(
          `SELECT 1 FROM pg_stat_activity
           WHERE state = 'idle in transaction' AND query LIKE '%DELETE FROM outbox%'`,
        );
        return holding.length > 0;
      });
      await pg.cut();
      // The worker's pooled connections, the relay's among them, are gone; Postgres ends the claim.
      await eventually(
        'the claim ended',
        async () =>
          (
            await rig.sql(
              `SELECT 1 FROM pg_stat_activity
               WHERE state = 'idle in transaction' AND query LIKE '%DELETE FROM outbox%'`,
            )
          ).length === 0,
      );
    } finally {
      await pg.restore();
      redis.resume();
    }
    await eventually('every row relayed', async () => {
      // An unhandled 'error' of the dropped connection would have ended the worker.
      if (rig.stack.worker?.exited) throw new Error(`the worker exited:\n${rig.stack.worker.output()}`);
      return (await mineLeft(tag)) === 0;
    });
    const jobs = await waitingJobs(tag);
    expect(jobs).toHaveLength(20);
    expect(new Set(jobs.map((j) => j.jobId)).size).toBe(20);
    expectInOrderPerPromotion(jobs);
  });
});
