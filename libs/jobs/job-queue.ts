import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { type Redis } from 'ioredis';
import { AirlockConfig } from '../config';
import { AIRLOCK_QUEUE, type JobItem } from './job.types';
import { createRedis } from './redis-connection';

/** How long finished jobs are kept: long enough that a relay retry deduplicates against them. */
const KEEP_COMPLETED_SECONDS = 24 * 3600;

/**
 * The producer side of the queue. Only the outbox relay adds jobs: everything else writes an
 * outbox row in its transaction, so jobs exist exactly for committed changes.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  readonly connection: Redis;
  readonly queue: Queue;

  constructor(private readonly config: AirlockConfig) {
    this.connection = createRedis(config, 'producer');
    this.queue = new Queue(AIRLOCK_QUEUE, {
      connection: this.connection,
      prefix: config.REDIS_PREFIX,
      defaultJobOptions: {
        attempts: config.WORKER_JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: config.WORKER_RETRY_DELAY_MS },
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: 7 * KEEP_COMPLETED_SECONDS },
      },
    });
  }

  /** Adds jobs with their ids; BullMQ ignores an id it already holds, which makes relays idempotent. */
  async addBulk(jobs: Array<JobItem & { jobId: string }>): Promise<void> {
    await this.queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: { jobId: j.jobId } })));
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
  }

  async ping(): Promise<boolean> {
    return (await this.connection.ping()) === 'PONG';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
