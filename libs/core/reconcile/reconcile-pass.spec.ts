import { PromotionStatus as S } from '../../domain';
import { type JobPresence, JobName, jobIdFor } from '../../jobs/job.types';
import {
  MAX_REQUEUES,
  type ReconcileStore,
  Reconciler,
  type Requeue,
  type StalePromotion,
} from './reconcile-pass';

/** Redis as the reconciler sees it: job ids and their presence; anything else is missing. */
class FakeJobs {
  connected = true;
  readonly jobs = new Map<string, JobPresence>();
  readonly asked: string[] = [];
  presence(_name: JobName, id: string): Promise<JobPresence> {
    this.asked.push(id);
    return Promise.resolve(this.jobs.get(id) ?? 'missing');
  }
}

/** Postgres as the reconciler sees it: stale promotions, an outbox, one lock. */
class FakeRepo implements ReconcileStore {
  promotions: StalePromotion[] = [];
  readonly outbox = new Map<string, Requeue>();
  locked = false;
  async exclusive<T>(work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    if (this.locked) return { ran: false };
    this.locked = true;
    try {
      return { ran: true, value: await work() };
    } finally {
      this.locked = false;
    }
  }
  stale(_s: unknown, _ms: number, afterSeq: string, limit: number): Promise<StalePromotion[]> {
    const pending = new Set([...this.outbox.values()].map((r) => r.promotionId));
    return Promise.resolve(
      this.promotions.filter((p) => BigInt(p.seq) > BigInt(afterSeq) && !pending.has(p.id)).slice(0, limit),
    );
  }
  requeue(r: Requeue): Promise<boolean> {
    const p = this.promotions.find((x) => x.id === r.promotionId);
    if (!p || p.status !== r.status || p.history[0].id !== r.lastChangeId || this.outbox.has(r.jobId)) {
      return Promise.resolve(false);
    }
    this.outbox.set(r.jobId, r);
    return Promise.resolve(true);
  }
}

const h = (id: number, from: S | null, to: S) => ({ id: String(id), from, to });

/** Histories, newest first, ending in each working status. */
const HISTORY: Record<string, StalePromotion['history']> = {
  received: [h(1, null, S.Received)],
  checking: [h(2, S.Received, S.Checking), h(1, null, S.Received)],
  retriedChecking: [
    h(5, S.Failed, S.Checking),
    h(4, S.Checking, S.Failed),
    h(2, S.Received, S.Checking),
    h(1, null, S.Received),
  ],
  approved: [h(3, S.Checking, S.Approved), h(2, S.Received, S.Checking), h(1, null, S.Received)],
  promoting: [
    h(4, S.Approved, S.Promoting),
    h(3, S.AwaitingApproval, S.Approved),
    h(2, S.Checking, S.AwaitingApproval),
    h(1, null, S.Received),
  ],
};

function setup() {
  const jobs = new FakeJobs();
  const repo = new FakeRepo();
  const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const reconciler = new Reconciler(repo, jobs, 60_000, quiet);
  let seq = 0;
  const add = (status: S, history: StalePromotion['history']): StalePromotion => {
    seq += 1;
    const p = { id: `p${seq}`, seq: String(seq), status, history };
    repo.promotions.push(p);
    return p;
  };
  return { jobs, repo, reconciler, add };
}

describe(Reconciler.name, () => {
  describe('the job a working status needs', () => {
    it.each([
      [S.Received, HISTORY.received, JobName.RunChecks, '1'],
      [S.Checking, HISTORY.checking, JobName.RunChecks, '1'],
      [S.Checking, HISTORY.retriedChecking, JobName.RunChecks, '5'],
      [S.Approved, HISTORY.approved, JobName.Promote, '3'],
      [S.Promoting, HISTORY.promoting, JobName.Promote, '3'],
    ])('%s: the job started by history row (case %#)', async (status, history, job, row) => {
      const { reconciler, add } = setup();
      const p = add(status, history);
      expect(await reconciler.decide(p)).toEqual({
        action: 'requeue',
        job,
        jobId: jobIdFor(job, p.id, row),
        reason: expect.stringContaining('not in the queue'),
      });
    });
  });

  it('leaves a promotion whose job is live alone, asking Redis once', async () => {
    const { jobs, reconciler, add } = setup();
    const p = add(S.Received, HISTORY.received);
    const id = jobIdFor(JobName.RunChecks, p.id, '1');
    jobs.jobs.set(id, 'live');
    expect(await reconciler.decide(p)).toEqual({ action: 'leave', jobId: id });
    expect(jobs.asked).toEqual([id]);
  });

  it('re-runs a job that finished without moving the promotion on, under a new id', async () => {
    const { jobs, reconciler, add } = setup();
    const p = add(S.Checking, HISTORY.checking);
    const id = jobIdFor(JobName.RunChecks, p.id, '1');
    jobs.jobs.set(id, 'finished');
    expect(await reconciler.decide(p)).toMatchObject({ action: 'requeue', jobId: `${id}-r1` });
    jobs.jobs.set(`${id}-r1`, 'finished');
    expect(await reconciler.decide(p)).toMatchObject({ action: 'requeue', jobId: `${id}-r2` });
  });

  it('does not enqueue beside a live requeued job even when the original aged out of Redis', async () => {
    const { jobs, reconciler, add } = setup();
    const p = add(S.Promoting, HISTORY.promoting);
    const id = jobIdFor(JobName.Promote, p.id, '3');
    jobs.jobs.set(`${id}-r2`, 'live');
    expect(await reconciler.decide(p)).toEqual({ action: 'leave', jobId: `${id}-r2` });
  });

  it('gives up (loudly) when every id it may use ran and left the promotion where it was', async () => {
    const { jobs, reconciler, add } = setup();
    const p = add(S.Approved, HISTORY.approved);
    const id = jobIdFor(JobName.Promote, p.id, '3');
    jobs.jobs.set(id, 'finished');
    for (let k = 1; k <= MAX_REQUEUES; k++) jobs.jobs.set(`${id}-r${k}`, 'finished');
    expect(await reconciler.decide(p)).toMatchObject({ action: 'give-up' });
    expect((await reconciler.reconcile())?.gaveUp).toBe(1);
  });

  it('a pass requeues only what has no live job, and a second pass adds nothing', async () => {
    const { jobs, repo, reconciler, add } = setup();
    const lost = add(S.Received, HISTORY.received);
    const live = add(S.Approved, HISTORY.approved);
    jobs.jobs.set(jobIdFor(JobName.Promote, live.id, '3'), 'live');
    expect(await reconciler.reconcile()).toEqual({ examined: 2, requeued: 1, gaveUp: 0 });
    expect([...repo.outbox.values()]).toEqual([
      {
        promotionId: lost.id,
        status: S.Received,
        lastChangeId: '1',
        job: JobName.RunChecks,
        jobId: jobIdFor(JobName.RunChecks, lost.id, '1'),
        reason: expect.any(String),
      },
    ]);
    // The requeued job waits in the outbox: the next pass leaves it to the relay.
    expect(await reconciler.reconcile()).toEqual({ examined: 1, requeued: 0, gaveUp: 0 });
  });

  it('skips a pass while another process holds the lock, or while Redis is away', async () => {
    const { jobs, repo, reconciler, add } = setup();
    add(S.Received, HISTORY.received);
    repo.locked = true;
    expect(await reconciler.reconcile()).toBeNull();
    repo.locked = false;
    jobs.connected = false;
    expect(await reconciler.reconcile()).toBeNull();
    expect(repo.outbox.size).toBe(0);
  });

  it('two passes at once enqueue one job', async () => {
    const { repo, reconciler, add } = setup();
    add(S.Checking, HISTORY.checking);
    const [a, b] = await Promise.all([reconciler.reconcile(), reconciler.reconcile()]);
    expect([a?.requeued ?? 0, b?.requeued ?? 0].sort()).toEqual([0, 1]);
    expect(repo.outbox.size).toBe(1);
  });

  it('walks past a full batch', async () => {
    const { repo, reconciler, add } = setup();
    for (let i = 0; i < 1100; i++) add(S.Received, HISTORY.received);
    expect(await reconciler.reconcile()).toMatchObject({ examined: 1100, requeued: 1100 });
    expect(repo.outbox.size).toBe(1100);
  });
});
