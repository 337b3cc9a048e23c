import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { type Redis } from 'ioredis';
import { AirlockConfig } from '../config';
import { DomainError, webhookRetryDelay } from '../domain';
import { type JobItem, type JobName, type JobPresence, QUEUE_NAMES, QUEUE_OF, QueueName } from './job.types';
import { atQueueEdge } from './queue-outage';
import { createRedis } from './redis-connection';

/** Attempts of a webhook delivery: a bound BullMQ needs; time ends the retries long before. */
export const WEBHOOK_ATTEMPTS = 10_000;
/** The custom backoff type of webhook deliveries (the worker's backoffStrategy answers it). */
export const WEBHOOK_BACKOFF = 'webhook';

/**
 * The worker's backoff strategy: exponential with jitter and a cap for webhook deliveries
 * (libs/domain webhookRetryDelay). BullMQ calls it for backoff types it does not know.
 */
export function webhookBackoff(config: AirlockConfig): (attemptsMade: number, type?: string) => number {
  return (attemptsMade) =>
    webhookRetryDelay(
      attemptsMade,
      config.WEBHOOK_RETRY_BASE_MS,
      config.WEBHOOK_RETRY_MAX_DELAY_MS,
      Math.random(),
    );
}

/** How long finished jobs are kept: long enough that a relay retry deduplicates against them. */
const KEEP_COMPLETED_SECONDS = 24 * 3600;

/**
 * The producer side of the queues. Only the outbox relay adds jobs: everything else writes an
 * outbox row in its transaction, so jobs exist exactly for committed changes.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  readonly connection: Redis;
  private readonly queues: ReadonlyMap<QueueName, Queue>;

  constructor(private readonly config: AirlockConfig) {
    this.connection = createRedis(config, 'producer', 'commands');
    this.queues = new Map(
      QUEUE_NAMES.map((name) => [
        name,
        new Queue(name, {
          connection: this.connection,
          prefix: config.REDIS_PREFIX,
          defaultJobOptions:
            name === QueueName.Webhooks
              ? {
                  // Retried until WEBHOOK_RETRY_FOR_MS has passed since the first attempt (the
                  // handler ends it then), not for a number of attempts; see webhookBackoff.
                  attempts: WEBHOOK_ATTEMPTS,
                  backoff: { type: WEBHOOK_BACKOFF },
                  removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
                  removeOnFail: { age: 7 * KEEP_COMPLETED_SECONDS },
                }
              : {
                  attempts: config.WORKER_JOB_ATTEMPTS,
                  backoff: { type: 'exponential', delay: config.WORKER_RETRY_DELAY_MS },
                  removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
                  removeOnFail: { age: 7 * KEEP_COMPLETED_SECONDS },
                },
        }),
      ]),
    );
  }

  queue(name: QueueName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`no queue ${name}`);
    return q;
  }

  /** Adds jobs with their ids; BullMQ ignores an id it already holds, which makes relays idempotent. */
  async addBulk(jobs: Array<JobItem & { jobId: string; delayMs?: number }>): Promise<void> {
    return atQueueEdge(() => this.addBulkByQueue(jobs));
  }

  private async addBulkByQueue(jobs: Array<JobItem & { jobId: string; delayMs?: number }>): Promise<void> {
    for (const name of QUEUE_NAMES) {
      const mine = jobs.filter((j) => QUEUE_OF[j.name] === name);
      if (mine.length === 0) continue;
      await this.queue(name).addBulk(
        mine.map((j) => ({
          name: j.name,
          data: j.data,
          opts: { jobId: j.jobId, ...(j.delayMs ? { delay: j.delayMs } : {}) },
        })),
      );
    }
  }

  async presence(name: JobName, jobId: string): Promise<JobPresence> {
    const state = await this.queue(QUEUE_OF[name]).getJobState(jobId);
    if (state === 'unknown') return 'missing';
    return state === 'completed' || state === 'failed' ? 'finished' : 'live';
  }

  /**
   * Makes sure a job scheduler exists (`force`: writes it again even if it does). A scheduler lives
   * in Redis only, so it is gone when Redis lost its data; the maintenance side calls this on every
   * reconcile tick and after each reconnect.
   */
  async ensureScheduler(name: JobName, everyMs: number, force = false): Promise<boolean> {
    const queue = this.queue(QUEUE_OF[name]);
    if (!force && (await queue.getJobScheduler(name))) return false;
    await queue.upsertJobScheduler(
      name,
      { every: everyMs },
      { name, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
    return true;
  }

  /** Whether the producer connection is up right now (calls made while it is down wait). */
  get connected(): boolean {
    return this.connection.status === 'ready';
  }

  /**
   * Calls `handler` whenever the connection is ready again after it was lost: jobs and schedulers
   * may have gone with Redis's data, and the reconciler should look at once.
   */
  onReconnect(handler: () => void): void {
    let lost = false;
    this.connection.on('close', () => {
      lost = true;
    });
    this.connection.on('ready', () => {
      if (!lost) return;
      lost = false;
      handler();
    });
  }

  /** Jobs by queue and state, for metrics. */
  async counts(): Promise<Array<{ queue: QueueName; state: string; count: number }>> {
    return atQueueEdge(() => this.countsByQueue());
  }

  private async countsByQueue(): Promise<Array<{ queue: QueueName; state: string; count: number }>> {
    const out: Array<{ queue: QueueName; state: string; count: number }> = [];
    for (const name of QUEUE_NAMES) {
      const c = await this.queue(name).getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      );
      for (const [state, count] of Object.entries(c)) out.push({ queue: name, state, count });
    }
    return out;
  }

  async ping(): Promise<boolean> {
    return (await atQueueEdge(() => this.connection.ping())) === 'PONG';
  }

  /**
   * Redis's maxmemory-policy: anything but `noeviction` lets Redis drop queued jobs when memory
   * runs out. `undefined` when CONFIG is disabled or renamed (managed Redis often does that).
   */
  async maxmemoryPolicy(): Promise<string | undefined> {
    let reply: unknown;
    try {
      reply = await atQueueEdge(() => this.connection.config('GET', 'maxmemory-policy'));
    } catch (e) {
      if (e instanceof DomainError) throw e;
      return undefined; // CONFIG refused: unknown, not down
    }
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}
