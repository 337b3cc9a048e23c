import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { isJobName, type JobItem, JobQueue, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { OutboxRepository } from './outbox.repository';

/** Rows moved per transaction; a full batch means more may be waiting. */
export const BATCH = 200;
/** A lost wake-up costs at most this much latency. */
const POLL_MS = 1000;
/**
 * While passes keep finding rows (a burst of intake), the next pass waits this long rather than
 * for a wake-up: rows gather into one claim instead of a pass (two round trips) per row, and the
 * writers' wake-ups (folded by WakeBus) are not needed to keep the relay going.
 */
export const BUSY_GAP_MS = 20;

/**
 * Moves committed outbox rows into BullMQ. Rows are claimed (deleted) in a transaction that commits
 * only after the enqueue succeeded: a crash in between leaves them, and the next pass re-enqueues
 * them with the same job ids, which BullMQ ignores, so every committed row becomes exactly one job.
 */
@Injectable()
export class OutboxRelayService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: JobQueue,
    private readonly wakeups: WakeBus,
  ) {}

  onModuleInit(): void {
    this.wakeups.on(OUTBOX_TOPIC, () => this.relaySoon());
    this.timer = setInterval(() => this.relaySoon(), POLL_MS);
    this.timer.unref();
    this.relaySoon();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  relaySoon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        while (!this.stopped) {
          this.again = false;
          const moved = await this.relayBatch();
          if (moved === BATCH) continue;
          if (moved === 0 && !this.again) break;
          await new Promise((resolve) => setTimeout(resolve, BUSY_GAP_MS));
        }
      } catch (e) {
        this.logger.warn({ msg: 'outbox relay failed; will retry', error: String(e) });
      } finally {
        this.running = undefined;
      }
    })();
  }

  /** Relays one batch; returns how many rows it moved. */
  relayBatch(): Promise<number> {
    return this.outbox.drain(BATCH, async (rows) => {
      const jobs: Array<JobItem & { jobId: string; delayMs?: number }> = [];
      for (const r of rows) {
        if (!isJobName(r.jobName)) {
          this.logger.error({ msg: 'outbox row names no known job; dropped', id: r.id, job: r.jobName });
          continue;
        }
        jobs.push({
          name: r.jobName,
          data: r.payload,
          jobId: r.jobId,
          ...(r.delayMs > 0 ? { delayMs: Math.ceil(r.delayMs) } : {}),
        } as JobItem & { jobId: string; delayMs?: number });
      }
      await this.queue.addBulk(jobs);
    });
  }
}
