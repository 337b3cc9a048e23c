import { Logger } from '@nestjs/common';
import { type JobItem, JobName, type JobQueue, OUTBOX_TOPIC, type WakeBus } from '../../jobs';
import { BATCH, OutboxRelayService } from './outbox-relay.service';
import { type OutboxRepository, type OutboxRow } from './outbox.repository';

/** The outbox table in memory, with drain's contract: rows leave only when delivery succeeded. */
class InMemoryOutbox {
  rows: OutboxRow[] = [];
  add(jobName: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      const id = String(this.rows.length + 1);
      this.rows.push({
        id,
        jobName,
        jobId: `${jobName}-${id}`,
        payload: { promotionId: `p-${id}` },
        delayMs: 0,
      });
    }
  }
  async drain(limit: number, deliver: (rows: OutboxRow[]) => Promise<void>): Promise<number> {
    const taken = this.rows.slice(0, limit);
    if (taken.length === 0) return 0;
    await deliver(taken);
    this.rows = this.rows.filter((r) => !taken.includes(r));
    return taken.length;
  }
}

function relay(addBulk: (jobs: Array<JobItem & { jobId: string }>) => Promise<void>) {
  const outbox = new InMemoryOutbox();
  const queue = { addBulk } as unknown as JobQueue;
  /** What subscribed to which wake-up topic (Redis pub/sub in production). */
  const topics = new Map<string, () => void>();
  const wakeups = { on: (topic: string, fn: () => void) => void topics.set(topic, fn) } as unknown as WakeBus;
  const service = new OutboxRelayService(outbox as unknown as OutboxRepository, queue, wakeups);
  const settled = () => (service as unknown as { running: Promise<void> | undefined }).running;
  return { outbox, service, topics, settled };
}

describe('OutboxRelayService: every committed outbox row becomes one job', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('enqueues a batch under the rows’ job ids, then deletes the rows', async () => {
    const enqueued: Array<JobItem & { jobId: string }> = [];
    const { outbox, service } = relay(async (jobs) => void enqueued.push(...jobs));
    outbox.add(JobName.RunChecks);
    outbox.add(JobName.Promote);
    expect(await service.relayBatch()).toBe(2);
    expect(enqueued).toEqual([
      { name: JobName.RunChecks, data: { promotionId: 'p-1' }, jobId: `${JobName.RunChecks}-1` },
      { name: JobName.Promote, data: { promotionId: 'p-2' }, jobId: `${JobName.Promote}-2` },
    ]);
    expect(outbox.rows).toEqual([]);
    expect(await service.relayBatch()).toBe(0);
  });

  it('keeps the rows when the queue refuses them, and relays them on the next pass', async () => {
    let up = false;
    const enqueued: string[] = [];
    const { outbox, service } = relay(async (jobs) => {
      if (!up) throw new Error('Redis is down');
      enqueued.push(...jobs.map((j) => j.jobId));
    });
    outbox.add(JobName.RunChecks);
    await expect(service.relayBatch()).rejects.toThrow('Redis is down');
    expect(outbox.rows).toHaveLength(1);
    up = true;
    expect(await service.relayBatch()).toBe(1);
    expect(enqueued).toEqual([`${JobName.RunChecks}-1`]);
  });

  it('drops a row that names no known job instead of blocking the rest', async () => {
    const enqueued: string[] = [];
    const { outbox, service } = relay(async (jobs) => void enqueued.push(...jobs.map((j) => j.name)));
    outbox.add('promotion.unknown');
    outbox.add(JobName.Promote);
    expect(await service.relayBatch()).toBe(2);
    expect(enqueued).toEqual([JobName.Promote]);
    expect(outbox.rows).toEqual([]);
  });

  it('moves a backlog in batches until the outbox is empty', async () => {
    let calls = 0;
    const { outbox, service } = relay(async () => void calls++);
    outbox.add(JobName.RunChecks, BATCH * 2 + 3);
    service.relaySoon();
    await (service as unknown as { running: Promise<void> }).running;
    expect(outbox.rows).toEqual([]);
    expect(calls).toBe(3);
  });

  it('relays when woken on the outbox topic, and stops with the application', async () => {
    const enqueued: string[] = [];
    const { outbox, service, topics, settled } = relay(
      async (jobs) => void enqueued.push(...jobs.map((j) => j.jobId)),
    );
    service.onModuleInit();
    await settled();
    outbox.add(JobName.Promote);
    topics.get(OUTBOX_TOPIC)?.();
    await settled();
    expect(enqueued).toEqual([`${JobName.Promote}-1`]);
    await service.onApplicationShutdown();
    outbox.add(JobName.Promote);
    topics.get(OUTBOX_TOPIC)?.();
    expect(settled()).toBeUndefined();
    expect(outbox.rows).toHaveLength(1);
  });

  it('does not lose a wake-up that arrives during a pass: it runs one more', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const enqueued: string[] = [];
    const { outbox, service, settled } = relay(async (jobs) => {
      await gate;
      enqueued.push(...jobs.map((j) => j.jobId));
    });
    outbox.add(JobName.RunChecks);
    service.relaySoon();
    // Committed while the first pass is delivering: its wake-up finds the relay busy.
    outbox.add(JobName.Promote);
    service.relaySoon();
    release();
    await settled();
    await settled();
    expect(enqueued).toEqual([`${JobName.RunChecks}-1`, `${JobName.Promote}-2`]);
    expect(outbox.rows).toEqual([]);
  });

  it('keeps going without wake-ups while passes find rows, and stops at an empty one', async () => {
    const enqueued: string[] = [];
    let more = 3;
    const { outbox, service, settled } = relay(async (jobs) => {
      enqueued.push(...jobs.map((j) => j.jobId));
      // Intake keeps committing while the relay works; nobody wakes it.
      if (more-- > 0) outbox.add(JobName.RunChecks);
    });
    const drain = jest.spyOn(outbox, 'drain');
    outbox.add(JobName.RunChecks);
    service.relaySoon();
    await settled();
    expect(enqueued).toHaveLength(4);
    expect(outbox.rows).toEqual([]);
    // Four passes that found a row each, then the empty one that ended the run.
    expect(drain).toHaveBeenCalledTimes(5);
  });

  it('survives a failed pass (logged) and relays on the next wake-up', async () => {
    let up = false;
    const { outbox, service, settled } = relay(async () => {
      if (!up) throw new Error('Redis is down');
    });
    outbox.add(JobName.RunChecks);
    service.relaySoon();
    await settled();
    expect(outbox.rows).toHaveLength(1);
    up = true;
    service.relaySoon();
    await settled();
    expect(outbox.rows).toEqual([]);
  });
});
