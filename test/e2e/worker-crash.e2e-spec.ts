import { randomBytes } from 'node:crypto';
import { type PoolClient } from 'pg';
import { artifact, Rig } from '../support/rig';

/**
 * Crashes: a worker SIGKILLed in the middle of a stage, a worker killed and restarted at random
 * moments, and an API that dies after its transaction committed but before it answered. Each time
 * the work finishes exactly once: one history row and one audit event per transition.
 */
describe('worker and API crashes', () => {
  let rig: Rig;
  const uid = (): string => randomBytes(3).toString('hex');
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo));

  const APPROVED = [
    [null, 'received'],
    ['received', 'checking'],
    ['checking', 'approved'],
  ];
  const AWAITING = [
    [null, 'received'],
    ['received', 'checking'],
    ['checking', 'awaiting_approval'],
  ];

  async function create(env: string, seed: string): Promise<string> {
    const token = await rig.token('requester', { fresh: true });
    const res = await rig.call('POST', '/v1/promotions', {
      token,
      body: { artifact: artifact('acme/app', seed), environment: env },
    });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  async function status(id: string): Promise<string> {
    return (await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]))[0].status;
  }

  /** Polls the database until every promotion has its expected status. */
  async function settle(expected: Map<string, string>, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = await rig.sql('SELECT id, status FROM promotion WHERE id = ANY($1::uuid[])', [
        [...expected.keys()],
      ]);
      const wrong = rows.filter((r) => expected.get(r.id) !== r.status);
      if (rows.length === expected.size && wrong.length === 0) return;
      if (Date.now() > until) {
        throw new Error(`not settled: ${JSON.stringify(wrong.map((r) => [r.id, r.status]))}`);
      }
      await sleep(100);
    }
  }

  async function transitions(id: string): Promise<Array<[string | null, string]>> {
    const rows = await rig.sql(
      'SELECT from_status, to_status FROM promotion_status_change WHERE promotion_id = $1 ORDER BY id',
      [id],
    );
    return rows.map((r) => [r.from_status, r.to_status]);
  }

  /** Audit events per action for a promotion, sealed into the chain or still pending. */
  async function auditCounts(id: string): Promise<Record<string, number>> {
    const rows = await rig.sql(
      `SELECT action, count(*)::int AS n FROM (
         SELECT action FROM audit_event WHERE subject_type = 'promotion' AND subject_id = $1
         UNION ALL
         SELECT action FROM audit_pending WHERE subject_type = 'promotion' AND subject_id = $1
       ) a GROUP BY action`,
      [id],
    );
    return Object.fromEntries(rows.map((r) => [r.action, r.n]));
  }

  async function expectExactlyOnce(id: string, expected: Array<Array<string | null>>): Promise<void> {
    expect(await transitions(id)).toEqual(expected);
    const audit = { 'promotion.requested': 1 } as Record<string, number>;
    for (const [, to] of expected.slice(1)) audit[`promotion.${to}`] = 1;
    expect(await auditCounts(id)).toEqual(audit);
  }

  async function outboxRows(ids: string[]): Promise<any[]> {
    return rig.sql(
      "SELECT job_name, job_id, payload->>'promotionId' AS promotion_id FROM outbox WHERE payload->>'promotionId' = ANY($1::text[])",
      [ids],
    );
  }

  /** A connection holding a row lock, and its backend pid. */
  async function holdLock(sql: string, params: unknown[]): Promise<{ client: PoolClient; pid: number }> {
    const client = await rig.db.connect();
    await client.query('BEGIN');
    await client.query(sql, params);
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    return { client, pid };
  }

  /** The backend waiting on the lock that `holderPid` holds. */
  async function blockedBy(holderPid: number, timeoutMs = 20_000): Promise<{ pid: number; query: string }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = await rig.sql(
        'SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [holderPid],
      );
      if (rows.length > 0) return rows[0];
      if (Date.now() > until) throw new Error(`nothing is waiting on backend ${holderPid}`);
      await sleep(25);
    }
  }

  const activeJobs = (): Promise<string[]> => rig.redis.lrange(`${rig.prefix}:checks:active`, 0, -1);

  beforeAll(async () => {
    rig = await Rig.start();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  describe('a worker SIGKILLed while its job waits on the received → checking update', () => {
    // The job is taken, the worker is inside the stage and its UPDATE is blocked on a row lock we
    // hold: a crash there is reproducible. `commits` says what becomes of the orphaned statement:
    // terminated (the crash took the transaction with it) or let through (Postgres does not notice
    // a dead client while the statement waits, so it commits after the worker is gone).
    it.each([
      ['is rolled back', false],
      ['commits after the worker died', true],
    ])('finishes the work exactly once when the orphaned statement %s', async (_, commits) => {
      const env = `crash-${uid()}`;
      await rig.environment(env);
      await rig.stack.stopWorker();
      const id = await create(env, `${env}-1`);
      expect(await status(id)).toBe('received');
      expect(await outboxRows([id])).toEqual([
        expect.objectContaining({ job_name: 'promotion.run-checks', promotion_id: id }),
      ]);

      const lock = await holdLock('SELECT id FROM promotion WHERE id = $1 FOR UPDATE', [id]);
      let released = false;
      try {
        await rig.stack.startWorker();
        const waiting = await blockedBy(lock.pid);
        expect(waiting.query).toContain('UPDATE promotion SET status');
        expect((await activeJobs()).some((j) => j.startsWith(`promotion-run-checks-${id}-`))).toBe(true);

        await rig.stack.stopWorker('SIGKILL');
        if (!commits) {
          await rig.sql('SELECT pg_terminate_backend($1)', [waiting.pid]);
        }
        await lock.client.query('ROLLBACK');
        released = true;
      } finally {
        if (!released) await lock.client.query('ROLLBACK').catch(() => undefined);
        lock.client.release();
      }

      if (commits) {
        // The dead worker's statement went through: checking, with the outbox row for the stage.
        const until = Date.now() + 10_000;
        while ((await status(id)) !== 'checking' && Date.now() < until) await sleep(25);
        expect(await status(id)).toBe('checking');
        expect(await transitions(id)).toEqual(APPROVED.slice(0, 2));
      } else {
        await sleep(200);
        expect(await status(id)).toBe('received');
        expect(await transitions(id)).toEqual(APPROVED.slice(0, 1));
      }
      // Stuck in Redis as active, owned by a dead worker, until a new worker finds it stalled.
      expect((await activeJobs()).some((j) => j.startsWith(`promotion-run-checks-${id}-`))).toBe(true);

      await rig.stack.startWorker();
      await settle(new Map([[id, 'approved']]));
      await sleep(500); // any duplicate run would land now
      await expectExactlyOnce(id, APPROVED);
      expect(await status(id)).toBe('approved');
      expect(await outboxRows([id])).toEqual([]);
      const failed = await rig.redis.zrange(`${rig.prefix}:airlock:failed`, 0, -1);
      expect(failed.filter((j) => j.includes(id))).toEqual([]);
    });
  });

  it('survives kill -9 and restarts of the worker at random moments (chaos)', async () => {
    const auto = `chaos-a-${uid()}`;
    const manual = `chaos-m-${uid()}`;
    await rig.environment(auto);
    await rig.environment(manual, { approvals: { required: 1 } });
    const expected = new Map<string, string>();
    let kills = 0;

    const creator = (async () => {
      for (let i = 0; i < 30; i++) {
        const env = i % 3 === 2 ? manual : auto;
        const id = await create(env, `${env}-${i}`);
        expected.set(id, env === manual ? 'awaiting_approval' : 'approved');
        await sleep(between(10, 60));
      }
    })();
    const chaos = (async () => {
      for (let k = 0; k < 3; k++) {
        await sleep(between(100, 500));
        await rig.stack.stopWorker('SIGKILL');
        kills++;
        await sleep(between(0, 250));
        await rig.stack.startWorker();
      }
    })();
    await Promise.all([creator, chaos]);
    expect(kills).toBe(3);
    expect(expected.size).toBe(30);

    await settle(expected, 45_000);
    await sleep(500);
    for (const [id, to] of expected) {
      await expectExactlyOnce(id, to === 'approved' ? APPROVED : AWAITING);
    }
    await settle(expected); // and nothing moved on
    expect(await outboxRows([...expected.keys()])).toEqual([]);
  });

  it('enqueues a committed promotion even when the API dies before answering', async () => {
    const env = `api-crash-${uid()}`;
    await rig.environment(env);
    await rig.stack.stopWorker();
    let apiDown = false;
    try {
      // Promotions made while no worker runs wait in the outbox (the relay lives in the worker).
      const before = [await create(env, `${env}-1`), await create(env, `${env}-2`)];
      expect((await outboxRows(before)).map((r) => r.promotion_id).sort()).toEqual([...before].sort());

      // A request whose INSERT waits on the environment row (its foreign key check) while we hold
      // the row lock; the API is SIGKILLed meanwhile; then the lock goes and the statement commits.
      const [{ id: envId }] = await rig.sql('SELECT id FROM environment WHERE name = $1', [env]);
      const lock = await holdLock('SELECT id FROM environment WHERE id = $1 FOR UPDATE', [envId]);
      let answer: Promise<unknown>;
      try {
        const token = await rig.token('requester', { fresh: true });
        answer = rig
          .call('POST', '/v1/promotions', {
            token,
            body: { artifact: artifact('acme/app', `${env}-orphan`), environment: env },
          })
          .then(
            (r) => r,
            (e: unknown) => e,
          );
        const waiting = await blockedBy(lock.pid);
        expect(waiting.query).toContain('INSERT INTO promotion');
        await rig.stack.api!.stop('SIGKILL');
        apiDown = true;
      } finally {
        await lock.client.query('ROLLBACK');
        lock.client.release();
      }
      // The caller never got an answer…
      // (fetch rejects with a TypeError from another realm than jest's: compare by shape).
      const outcome = (await answer) as { status?: number; message?: string };
      expect(outcome.status).toBeUndefined();
      expect(outcome.message).toMatch(/fetch failed/);
      // …but the promotion was committed, with its outbox row in the same statement.
      let orphan: any[] = [];
      const until = Date.now() + 10_000;
      while (orphan.length === 0 && Date.now() < until) {
        orphan = await rig.sql(
          'SELECT id, status FROM promotion WHERE environment_id = $1 AND NOT (id = ANY($2::uuid[]))',
          [envId, before],
        );
        await sleep(25);
      }
      expect(orphan).toEqual([expect.objectContaining({ status: 'received' })]);
      const all = [...before, orphan[0].id as string];
      expect((await outboxRows(all)).map((r) => r.promotion_id).sort()).toEqual([...all].sort());
      expect(await transitions(orphan[0].id)).toEqual(APPROVED.slice(0, 1));

      await rig.stack.startApi();
      apiDown = false;
      await rig.stack.startWorker();
      const expected = new Map(all.map((id) => [id, 'approved']));
      await settle(expected);
      await sleep(300);
      for (const id of all) await expectExactlyOnce(id, APPROVED);
      expect(await outboxRows(all)).toEqual([]);
      const seen = await rig.call('GET', `/v1/promotions/${orphan[0].id}`, { as: 'auditor' });
      expect(seen.status).toBe(200);
      expect(seen.body.status).toBe('approved');
    } finally {
      if (apiDown) await rig.stack.startApi();
      if (!rig.stack.worker) await rig.stack.startWorker();
    }
  });
});
