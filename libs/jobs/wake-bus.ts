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
 *
 * Wake-ups of a topic are folded: the first is sent at once, those within WAKE_FOLD_MS after it
 * become one sent when that time is up. A burst of commits (intake at full rate) wakes each
 * relay a few hundred times a second at most rather than once per row; a relay that is awake
 * keeps going by itself while it finds rows.
 */
@Injectable()
export class WakeBus implements OnApplicationShutdown {
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Array<() => void>>();
  /** Topics woken within the last WAKE_FOLD_MS, and whether another wake-up came meanwhile. */
  private readonly folding = new Map<string, { again: boolean }>();

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
    const open = this.folding.get(topic);
    if (open) {
      open.again = true;
      return;
    }
    const fold = { again: false };
    this.folding.set(topic, fold);
    this.queue.connection.publish(this.channel(topic), '').catch(() => undefined);
    setTimeout(() => {
      this.folding.delete(topic);
      if (fold.again) this.wake(topic);
    }, WAKE_FOLD_MS).unref();
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }
}

export const OUTBOX_TOPIC = 'outbox';

/** How long after a wake-up further ones of its topic are held and sent as one. */
export const WAKE_FOLD_MS = 5;
