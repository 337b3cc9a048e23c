import { UnrecoverableError } from 'bullmq';
import { failedForGood } from './job-failure';

describe(failedForGood.name, () => {
  it('is final when BullMQ moved the job to failed (finishedOn set), not when it will retry', () => {
    expect(failedForGood({ finishedOn: 1_700_000_000_000 }, new Error('registry down'))).toBe(true);
    expect(failedForGood({ finishedOn: undefined }, new Error('registry down'))).toBe(false);
  });

  it('is final for an UnrecoverableError: how BullMQ fails a job that stalled past maxStalledCount', () => {
    expect(
      failedForGood(
        { finishedOn: undefined },
        new UnrecoverableError('job stalled more than allowable limit'),
      ),
    ).toBe(true);
    // A message that merely mentions stalling is not BullMQ's signal.
    expect(failedForGood({ finishedOn: undefined }, new Error('upstream stalled, will retry'))).toBe(false);
  });
});
