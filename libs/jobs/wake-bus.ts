import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { type Redis } from 'ioredis';
import { AirlockConfig } from '../config';
import { JobQueue } from './job-queue';
import { createRedis } from './redis-connection';

/**
 * Wakes background loops (the outbox relay) right after a commit, through Redis pub/sub. Not a
 * NOTIFY in the writing transaction: Postgres serialises the commits of notifying transactions,
 * which capped promotion intake at a sixth of a plain insert. Wake-ups may be lost; every loop
 * also polls, so a lost one only costs latency.
 */
@Injectable()
export class WakeBus implements OnApplicationShutdown {
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Array<() => void>>();

  constructor(
    private readonly config: AirlockConfig,
    private readonly queue: JobQueue,
  ) {}

  private channel(topic: string): string {
    return `${this.config.REDIS_PREFIX}:wake:${topic}`;
  }

  on(topic: string, handler: () => void): void {
    if (!this.subscriber) {
      this.subscriber = createRedis(this.config, 'wake');
      this.subscriber.on('message', (channel: string) => {
        for (const [t, hs] of this.handlers) if (this.channel(t) === channel) hs.forEach((h) => h());
      });
    }
    if (!this.handlers.has(topic)) void this.subscriber.subscribe(this.channel(topic)).catch(() => undefined);
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Fire and forget: call after the transaction that wrote the work has committed. */
  wake(topic: string): void {
    this.queue.connection.publish(this.channel(topic), '').catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }
}

export const OUTBOX_TOPIC = 'outbox';
