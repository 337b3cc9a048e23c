import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { freePort, type ServiceProcess } from '../../apps/devstack/processes';
import { artifact, Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

/**
 * Nothing acknowledged is ever stranded: promotions whose job vanished from Redis (deleted, or the
 * rig's whole prefix wiped as a Redis that lost its data would) get it again through the outbox;
 * promotions whose job is live are left alone; two reconcilers enqueue once; the pending sweep's
 * scheduler comes back; pending-timeout expiry reaches every overdue request, in batches.
 *
 * The file has a database of its own: the reconciler looks at every promotion in the database,
 * and other files' rigs leave promotions in working statuses behind.
 */
describe('reconciler', () => {
  const dbName = `airlock_test_reconcile_${randomBytes(4).toString('hex')}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  const clockFile = join(mkdtempSync(join(tmpdir(), 'airlock-clock-')), 'offset');
  const setClock = (hours: number) => writeFileSync(clockFile, String(hours * 3600_000));
  const unique = () => randomBytes(3).toString('hex');
  let rig: Rig;
  let checks: Queue;
  let maintenance: Queue;

  beforeAll(async () => {
    setClock(0);
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    rig = await Rig.start(
      {
        RECONCILE_AFTER_MS: '1000',
        RECONCILE_INTERVAL_MS: '300',
        WORKER_SWEEP_INTERVAL_MS: '300',
        AIRLOCK_TEST_CLOCK_FILE: clockFile,
      },
      { databaseUrl: url },
    );
    checks = new Queue('checks', { connection: rig.redis, prefix: rig.prefix });
    maintenance = new Queue('maintenance', { connection: rig.redis, prefix: rig.prefix });
  }, 300_000);

  afterAll(async () => {
    await checks?.close();
    await maintenance?.close();
    await rig?.stop();
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });

  /** Polls until `check` holds; the bound only says how long a failure takes to show. */
  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function restartWorker(queues: string): Promise<void> {
    await rig.stack.stopWorker();
    await rig.stack.startWorker({ WORKER_QUEUES: queues });
  }

  async function environment(
    policy: Record<string, unknown> = { approvals: { required: 1 } },
  ): Promise<string> {
    const env = `rec-${unique()}`;
    await rig.environment(env, policy);
    return env;
  }

  async function request(env: string): Promise<string> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', unique()), environment: env },
    });
    if (res.status !== 201) throw new Error(`promotion: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  /** The id of the check-stage job intake started (as promotion-state-machine.ts derives it). */
  async function checkJobId(id: string): Promise<string> {
    const [row] = await rig.sql(
      `SELECT id FROM promotion_status_change WHERE promotion_id = $1 AND to_status = 'received'`,
      [id],
    );
    return `promotion-run-checks-${id}-${row.id}`;
  }

  /** The reconciler's audit events about a promotion, sealed or not. */
  async function requeues(id: string): Promise<Array<{ jobId: string; reason: string }>> {
    const rows = await rig.sql(
      `SELECT details FROM audit_pending WHERE subject_id = $1 AND action = 'promotion.requeued'
       UNION ALL
       SELECT details FROM audit_event WHERE subject_id = $1 AND action = 'promotion.requeued'`,
      [id],
    );
    return rows.map((r) => r.details);
  }

  const status = async (id: string): Promise<string> =>
    (await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]))[0].status;

  /** Stops the relay from ever seeing the promotion's job: what a relay followed by a Redis loss leaves. */
  async function dropOutboxRow(id: string): Promise<void> {
    const rows = await rig.sql(`DELETE FROM outbox WHERE payload->>'promotionId' = $1 RETURNING id`, [id]);
    expect(rows).toHaveLength(1);
  }

  async function wipeRedis(): Promise<void> {
    const keys = await rig.redis.keys(`${rig.prefix}:*`);
    if (keys.length) await rig.redis.del(...keys);
  }

  async function liveJobsOf(id: string): Promise<string[]> {
    const jobs = await checks.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    return jobs
      .filter((j) => (j.data as { promotionId?: string }).promotionId === id)
      .map((j) => j.id as string);
  }

  it('gives a promotion whose job never reached Redis its job again; it reaches a waiting status', async () => {
    const env = await environment();
    await rig.stack.stopWorker();
    const id = await request(env);
    await dropOutboxRow(id);
    await rig.stack.startWorker({ WORKER_QUEUES: 'checks,maintenance' });

    await rig.waitForStatus(id, ['awaiting_approval'], 120_000);
    const events = await requeues(id);
    expect(events).toHaveLength(1);
    // Redis never knew the original id, so the original id is used again.
    expect(events[0]).toMatchObject({
      jobId: await checkJobId(id),
      status: 'received',
      job: 'promotion.run-checks',
    });
  }, 300_000);

  it('leaves live jobs alone, and after the Redis prefix is wiped brings back jobs and the sweep scheduler', async () => {
    // No checker: jobs stay waiting, so "live" lasts as long as the test needs.
    await restartWorker('maintenance');
    const env = await environment();
    const live = await request(env);
    const liveJob = await checkJobId(live);
    await until(
      'the live promotion is enqueued',
      async () => (await checks.getJobState(liveJob)) === 'waiting',
    );

    const lost = await request(env);
    const lostJob = await checkJobId(lost);
    await until(
      'the lost promotion is enqueued',
      async () => (await checks.getJobState(lostJob)) === 'waiting',
    );
    await checks.remove(lostJob);
    expect(await checks.getJobState(lostJob)).toBe('unknown');

    // The pass that requeues `lost` has looked at `live` too (older, and stale for as long).
    await until('the lost job is requeued', async () => (await requeues(lost)).length === 1);
    expect(await requeues(live)).toEqual([]);
    expect(await liveJobsOf(live)).toEqual([liveJob]);
    await until('the requeued job is back', async () => (await checks.getJobState(lostJob)) === 'waiting');

    await wipeRedis();
    await until(
      'the pending sweep scheduler is back',
      async () => (await maintenance.getJobScheduler('approvals.sweep-pending')) !== undefined,
    );
    await until('both jobs are requeued', async () => (await requeues(live)).length === 1);
    await until('both jobs are requeued', async () => (await requeues(lost)).length === 2);
    await until('both jobs are back', async () => (await liveJobsOf(live)).length === 1);
    await until('both jobs are back', async () => (await liveJobsOf(lost)).length === 1);
    expect(await liveJobsOf(live)).toEqual([liveJob]);
    expect(await liveJobsOf(lost)).toEqual([lostJob]);

    await restartWorker('checks,maintenance');
    await rig.waitForStatus(live, ['awaiting_approval'], 120_000);
    await rig.waitForStatus(lost, ['awaiting_approval'], 120_000);
    expect(await requeues(live)).toHaveLength(1);
  }, 300_000);

  it('two reconcilers at once enqueue each lost job once', async () => {
    const env = await environment();
    await rig.stack.stopWorker();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await request(env));
    for (const id of ids) await dropOutboxRow(id);

    let second: ServiceProcess | undefined;
    try {
      // Two maintenance-only workers (no checker, so the requeued jobs stay live).
      [second] = await Promise.all([
        rig.stack.spawnWorker({ WORKER_QUEUES: 'maintenance' }, 'airlock-worker-2'),
        rig.stack.startWorker({ WORKER_QUEUES: 'maintenance' }),
      ]);
      for (const id of ids) {
        await until(`${id} is requeued and enqueued`, async () => (await liveJobsOf(id)).length === 1);
      }
      // One more lost job, requeued after the others: passes kept running meanwhile.
      const marker = await request(env);
      const markerJob = await checkJobId(marker);
      await until('the marker is enqueued', async () => (await checks.getJobState(markerJob)) === 'waiting');
      await checks.remove(markerJob);
      await until('the marker is requeued', async () => (await requeues(marker)).length === 1);

      for (const id of ids) {
        expect(await requeues(id)).toHaveLength(1);
        expect(await liveJobsOf(id)).toEqual([await checkJobId(id)]);
        expect(await status(id)).toBe('received');
      }
    } finally {
      await second?.stop();
      await restartWorker('checks,maintenance');
    }
  }, 300_000);

  it('expires every overdue request, oldest first, however many wait (more than one batch)', async () => {
    const short = await environment({ approvals: { required: 1, pendingTimeout: '2h' } });
    const long = await environment({ approvals: { required: 1, pendingTimeout: '10h' } });
    const seedShort = await request(short);
    const seedLong = await request(long);
    await rig.waitForStatus(seedShort, ['awaiting_approval'], 120_000);
    await rig.waitForStatus(seedLong, ['awaiting_approval'], 120_000);

    // Many more requests waiting like the seeds, written directly (the intake path is what other
    // files test). The overdue ones are the oldest: the newest thousand are not overdue, which is
    // what a sweep over the newest thousand only would have looked at.
    const clone = async (seed: string, n: number): Promise<string[]> => {
      const rows = await rig.sql(
        `WITH p AS (
           INSERT INTO promotion (id, environment_id, policy_version_id, policy_sha256, source_registry,
             source_repository, digest, tag, target_registry, target_repository, status, requester,
             requester_key, claims, metadata, request_hash, reasons, created_at, updated_at)
           SELECT gen_random_uuid(), environment_id, policy_version_id, policy_sha256, source_registry,
             source_repository, digest, tag, target_registry, target_repository, status, requester,
             requester_key, claims, metadata, request_hash, reasons, created_at, updated_at
           FROM promotion, generate_series(1, $2) WHERE id = $1
           RETURNING id, updated_at
         ), h AS (
           INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason, at)
           SELECT id, 'checking', 'awaiting_approval', '{"kind":"system","issuer":"test","subject":"clone"}',
             'cloned by the test', updated_at FROM p
         )
         SELECT id FROM p`,
        [seed, n],
      );
      return rows.map((r) => r.id);
    };
    const overdue = [seedShort, ...(await clone(seedShort, 450))];
    const waiting = [seedLong, ...(await clone(seedLong, 1000))];

    setClock(3);
    try {
      const countIn = async (ids: string[], s: string): Promise<number> =>
        Number(
          (
            await rig.sql(`SELECT count(*) AS n FROM promotion WHERE id = ANY($1::uuid[]) AND status = $2`, [
              ids,
              s,
            ])
          )[0].n,
        );
      await until(
        'every overdue request expired',
        async () => (await countIn(overdue, 'expired')) === overdue.length,
      );
      expect(await countIn(waiting, 'awaiting_approval')).toBe(waiting.length);
      const p = await rig.call('GET', `/v1/promotions/${overdue[overdue.length - 1]}`, { as: 'auditor' });
      expect(p.body.history.at(-1)).toMatchObject({ from: 'awaiting_approval', to: 'expired' });
    } finally {
      setClock(0);
    }
  }, 300_000);

  it('brings back the delayed release job of a waiting promotion that Redis lost; the release still waits for its time', async () => {
    setClock(0);
    // The promoter asks the gate; the freeze holds for a few seconds (the copy itself is not the point).
    await restartWorker('checks,promote,maintenance');
    const until_ = new Date(Date.now() + 8000);
    const env = await environment({
      approvals: { required: 0 },
      freeze: {
        windows: [
          {
            name: 'hold',
            kind: 'deny',
            from: new Date(Date.now() - 60_000).toISOString(),
            until: until_.toISOString(),
          },
        ],
      },
    });
    const id = await request(env);
    const waiting = await rig.waitForStatus(id, ['waiting'], 60_000);
    expect(waiting.waitingUntil).toBe(until_.toISOString());
    const releaseJobs = async () =>
      (await maintenance.getJobs(['delayed', 'waiting', 'active'])).filter(
        (j) => (j.data as { promotionId?: string }).promotionId === id,
      );
    await until('the release job is delayed in Redis', async () => (await releaseJobs()).length === 1);
    const [job] = await releaseJobs();
    expect(await job.getState()).toBe('delayed');
    await job.remove();

    // The reconciler enqueues it again (at once); it finds the wait not over and delays itself.
    await until('the release job is requeued', async () => (await requeues(id)).length === 1);
    expect((await requeues(id))[0]).toMatchObject({ status: 'waiting', job: 'promotion.release' });
    await until(
      'the requeued job is delayed',
      async () =>
        (await releaseJobs()).length === 1 && (await (await releaseJobs())[0].getState()) === 'delayed',
    );
    expect(await status(id)).toBe('waiting');

    await until('the wait ends', async () => (await status(id)) !== 'waiting', 60_000);
    const [released] = await rig.sql(
      `SELECT at FROM promotion_status_change WHERE promotion_id = $1 AND from_status = 'waiting'`,
      [id],
    );
    expect(new Date(released.at).getTime()).toBeGreaterThanOrEqual(until_.getTime());
    await restartWorker('checks,maintenance');
  }, 300_000);
});

/**
 * Finding 1 of issue #12, as it happened: Redis as shipped (no AOF) killed with -9 and started
 * again empty. The periodic pass is set to an hour, so what brings the jobs and the sweep scheduler
 * back is the pass the worker runs when its Redis connection is ready again.
 */
describe('reconciler after Redis is killed and comes back empty', () => {
  const dbName = `airlock_test_reconcile_kill_${randomBytes(4).toString('hex')}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  let port: number;
  let redisProcess: ChildProcess | undefined;
  let redis: Redis;
  let rig: Rig;
  let checks: Queue;
  let maintenance: Queue;

  async function startRedis(): Promise<void> {
    redisProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await until('redis answers', async () => {
      const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    });
  }

  async function killRedis(): Promise<void> {
    const p = redisProcess;
    redisProcess = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGKILL');
    await exited;
  }

  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    const redisUrl = `redis://127.0.0.1:${port}/0`;
    rig = await Rig.start(
      {
        REDIS_URL: redisUrl,
        WORKER_QUEUES: 'maintenance',
        RECONCILE_AFTER_MS: '500',
        RECONCILE_INTERVAL_MS: String(3600_000),
      },
      { databaseUrl: url },
    );
    redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    checks = new Queue('checks', { connection: redis, prefix: rig.prefix });
    maintenance = new Queue('maintenance', { connection: redis, prefix: rig.prefix });
  }, 300_000);

  afterAll(async () => {
    await checks?.close();
    await maintenance?.close();
    redis?.disconnect();
    await rig?.stop();
    await killRedis();
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });

  it('requeues every waiting job and recreates the sweep scheduler when the worker reconnects', async () => {
    const env = `rec-kill-${randomBytes(3).toString('hex')}`;
    await rig.environment(env, { approvals: { required: 1 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: { artifact: artifact('acme/app', `${env}-${i}`), environment: env },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const jobIds = await Promise.all(
      ids.map(async (id) => {
        const [row] = await rig.sql(
          `SELECT id FROM promotion_status_change WHERE promotion_id = $1 AND to_status = 'received'`,
          [id],
        );
        return `promotion-run-checks-${id}-${row.id}`;
      }),
    );
    for (const jobId of jobIds) {
      await until(`${jobId} is enqueued`, async () => (await checks.getJobState(jobId)) === 'waiting');
    }
    expect(await maintenance.getJobScheduler('approvals.sweep-pending')).toBeDefined();
    await until('the promotions are stale', async () => {
      const [row] = await rig.sql(
        `SELECT bool_and(updated_at < now() - interval '1 second') AS stale FROM promotion WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return row.stale === true;
    });

    const runId = async (): Promise<string> => /run_id:(\w+)/.exec(await redis.info('server'))?.[1] ?? '';
    const before = await runId();
    await killRedis();
    await startRedis();
    // A new Redis with nothing persisted (the worker may already have written to it again).
    expect(await runId()).not.toBe(before);

    await until(
      'the sweep scheduler is back',
      async () => (await maintenance.getJobScheduler('approvals.sweep-pending')) !== undefined,
    );
    for (const jobId of jobIds) {
      await until(`${jobId} is enqueued again`, async () => (await checks.getJobState(jobId)) === 'waiting');
    }
    const events = await rig.sql(
      `SELECT subject_id FROM audit_pending WHERE action = 'promotion.requeued'
       UNION ALL SELECT subject_id FROM audit_event WHERE action = 'promotion.requeued'`,
    );
    expect(events.map((e) => e.subject_id).sort()).toEqual([...ids].sort());

    await rig.stack.stopWorker();
    await rig.stack.startWorker({ WORKER_QUEUES: 'checks,maintenance' });
    for (const id of ids) await rig.waitForStatus(id, ['awaiting_approval'], 120_000);
  }, 300_000);
});
