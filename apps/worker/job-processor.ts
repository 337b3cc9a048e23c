import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { type Redis } from 'ioredis';
import { hostname } from 'node:os';
import { AirlockConfig } from '../../libs/config';
import { AuditService, MetricsService } from '../../libs/core';
import { classifyFailure } from '../../libs/domain';
import {
  createRedis,
  failedForGood,
  isJobName,
  type JobItem,
  type QueueName,
  webhookBackoff,
} from '../../libs/jobs';
import { JobHandlers, NotYet } from './job-handlers';

/**
 * The BullMQ consumer. Jobs whose worker died are detected as stalled and run again elsewhere;
 * handlers are idempotent, so a rerun finishes the work exactly once.
 */
@Injectable()
export class JobProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobProcessor.name);
  private workers: Worker[] = [];
  private connection: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly instance = `${hostname()}-${process.pid}`;

  constructor(
    private readonly handlers: JobHandlers,
    private readonly config: AirlockConfig,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    const connection = createRedis(this.config, 'worker');
    this.connection = connection;
    const queues = this.config.WORKER_QUEUES.split(',') as QueueName[];
    this.workers = queues.map(
      (name) =>
        new Worker(name, (job: Job, token?: string) => this.process(job, token), {
          connection,
          prefix: this.config.REDIS_PREFIX,
          concurrency: this.config.WORKER_CONCURRENCY,
          lockDuration: this.config.WORKER_LOCK_DURATION_MS,
          stalledInterval: Math.max(1000, Math.floor(this.config.WORKER_LOCK_DURATION_MS / 2)),
          maxStalledCount: 10,
          settings: { backoffStrategy: webhookBackoff(this.config) },
        }),
    );
    for (const worker of this.workers) {
      worker.on('failed', (job, err) => {
        this.logger.warn({
          msg: 'job attempt failed',
          job: job?.name,
          jobId: job?.id,
          attempt: job?.attemptsMade,
          error: err.message,
        });
        if (job && failedForGood(job, err) && isJobName(job.name)) {
          const item = { name: job.name, data: job.data as unknown } as JobItem;
          this.handlers
            .abandoned(item, err.message)
            .catch((e: unknown) =>
              this.logger.error({ msg: 'could not mark an abandoned job', jobId: job.id, error: String(e) }),
            );
        }
      });
      worker.on('error', (err) => this.logger.error({ msg: 'worker error', error: err.message }));
    }
    this.timers.push(
      setInterval(() => void this.metrics.publish(this.instance).catch(() => undefined), 5000),
    );
    if (this.config.AUDIT_CHECKPOINT_INTERVAL_SECONDS > 0) {
      this.timers.push(
        setInterval(
          () =>
            void this.audit
              .checkpoint()
              .catch((e: unknown) => this.logger.warn({ msg: 'checkpoint failed', error: String(e) })),
          this.config.AUDIT_CHECKPOINT_INTERVAL_SECONDS * 1000,
        ),
      );
    }
    this.timers.forEach((t) => t.unref());
    this.logger.log({
      msg: 'worker started',
      queues,
      concurrency: this.config.WORKER_CONCURRENCY,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.timers.forEach((t) => clearInterval(t));
    await Promise.all(this.workers.map((w) => w.close()));
    this.connection?.disconnect();
  }

  private async process(job: Job, token?: string): Promise<void> {
    if (!isJobName(job.name)) throw new Error(`unknown job ${job.name}`);
    const started = process.hrtime.bigint();
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let outcome = 'completed';
    const item = { name: job.name, data: job.data as unknown } as JobItem;
    try {
      await this.handlers.dispatch(item, { lastAttempt });
    } catch (e) {
      if (e instanceof NotYet) {
        // BullMQ's way to run the same job later: back to delayed, no attempt counted.
        outcome = 'delayed';
        await job.moveToDelayed(Date.now() + Math.max(1, Math.ceil(e.ms)), token);
        throw new DelayedError();
      }
      const failure = classifyFailure(e);
      outcome = failure.permanent ? 'refused' : 'failed';
      if (!failure.permanent) throw e;
      // No retry can succeed: the outcome is recorded now (the handlers record the ones they
      // recognise themselves; this is for what escapes them), and BullMQ is told not to retry.
      await this.handlers.abandoned(item, failure.message, { permanent: true });
      throw new UnrecoverableError(failure.message);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.jobDuration.observe({ job: job.name, outcome }, seconds);
      this.logger.log({ msg: 'job', job: job.name, jobId: job.id, outcome, ms: Math.round(seconds * 1000) });
    }
  }
}
