import { type AirlockConfig } from '../config';
import { type JobQueue } from './job-queue';
import { OUTBOX_TOPIC, WAKE_FOLD_MS, WakeBus } from './wake-bus';

/** A WakeBus whose publishes land in a list (Redis pub/sub in production). */
function bus() {
  const published: string[] = [];
  const queue = {
    connection: { publish: async (channel: string) => void published.push(channel) },
  } as unknown as JobQueue;
  const config = { REDIS_PREFIX: 'airlock' } as AirlockConfig;
  return { wakeups: new WakeBus(config, queue), published };
}

describe(WakeBus.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends a lone wake-up at once, and only once', () => {
    const { wakeups, published } = bus();
    wakeups.wake(OUTBOX_TOPIC);
    expect(published).toEqual(['airlock:wake:outbox']);
    jest.advanceTimersByTime(WAKE_FOLD_MS * 10);
    expect(published).toHaveLength(1);
  });

  it('folds a burst into the first wake-up and one when the fold ends', () => {
    const { wakeups, published } = bus();
    for (let i = 0; i < 500; i++) wakeups.wake(OUTBOX_TOPIC);
    expect(published).toHaveLength(1);
    jest.advanceTimersByTime(WAKE_FOLD_MS);
    // The commits after the first were announced too, once.
    expect(published).toHaveLength(2);
    jest.advanceTimersByTime(WAKE_FOLD_MS * 10);
    expect(published).toHaveLength(2);
  });

  it('folds each topic on its own', () => {
    const { wakeups, published } = bus();
    wakeups.wake(OUTBOX_TOPIC);
    wakeups.wake('other');
    wakeups.wake(OUTBOX_TOPIC);
    expect(published).toEqual(['airlock:wake:outbox', 'airlock:wake:other']);
    jest.advanceTimersByTime(WAKE_FOLD_MS);
    expect(published).toEqual(['airlock:wake:outbox', 'airlock:wake:other', 'airlock:wake:outbox']);
  });
});
