import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AirlockConfig } from '../../libs/config';
import { ReconcilerService, VerificationService, WaiverService, WebhookReconciler } from '../../libs/core';
import { JobName, JobQueue, QueueName } from '../../libs/jobs';

/**
 * The maintenance side of a worker that consumes the maintenance queue: keeps the pending-sweep
 * and drift-check job schedulers in Redis, and runs the reconciler every RECONCILE_INTERVAL_MS and whenever the
 * connection to Redis comes back. Neither depends on Redis having kept anything: the scheduler is
 * written again when missing, the reconcilers (promotions' jobs, webhook deliveries' jobs) work
 * from Postgres.
 */
@Injectable()
export class Maintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Maintenance.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly config: AirlockConfig,
    private readonly queue: JobQueue,
    private readonly reconciler: ReconcilerService,
    private readonly webhooks: WebhookReconciler,
    private readonly verification: VerificationService,
    private readonly waivers: WaiverService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.WORKER_QUEUES.split(',').includes(QueueName.Maintenance)) return;
    this.queue.onReconnect(() => {
      this.logger.log({ msg: 'redis connection back; rescheduling and reconciling' });
      this.tick(true);
    });
    this.timer = setInterval(() => this.tick(false), this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
    this.tick(true);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Runs one maintenance round now, or right after the one in progress. */
  tick(reschedule: boolean): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      let force = reschedule;
      do {
        this.again = false;
        await this.round(force);
        force = false;
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async round(forceSchedule: boolean): Promise<void> {
    try {
      if (this.queue.connected) {
        const created = await this.queue.ensureScheduler(
          JobName.SweepPending,
          this.config.WORKER_SWEEP_INTERVAL_MS,
          forceSchedule,
        );
        if (created && !forceSchedule)
          this.logger.warn({ msg: 'pending sweep scheduler was missing; recreated' });
      }
    } catch (e) {
      this.logger.error({ msg: 'could not schedule the pending sweep', error: String(e) });
    }
    try {
      if (this.queue.connected && this.config.DRIFT_CHECK_INTERVAL_MS > 0) {
        await this.queue.ensureScheduler(
          JobName.ScheduleDriftChecks,
          this.config.DRIFT_CHECK_INTERVAL_MS,
          forceSchedule,
        );
      }
    } catch (e) {
      this.logger.error({ msg: 'could not schedule drift checks', error: String(e) });
    }
    try {
      await this.reconciler.reconcile();
    } catch (e) {
      this.logger.warn({ msg: 'reconcile pass failed; will retry', error: String(e) });
    }
    try {
      await this.webhooks.reconcile();
      await this.webhooks.prune();
    } catch (e) {
      this.logger.warn({ msg: 'webhook reconcile pass failed; will retry', error: String(e) });
    }
    try {
      const requeued = await this.verification.requeueStale();
      if (requeued)
        this.logger.warn({ msg: 'verification runs still queued; their jobs written again', requeued });
    } catch (e) {
      this.logger.warn({ msg: 'could not look for stale verification runs', error: String(e) });
    }
    try {
      await this.waivers.announceExpired();
    } catch (e) {
      this.logger.warn({ msg: 'could not announce expired waivers; will retry', error: String(e) });
    }
  }
}
