import { PROMOTION_STATUSES, PromotionStatus as S } from '../domain';
import { jobIdFor, JobName, jobStartedBy, jobWorking, requeueJobId } from './job.types';

describe('job ids and working statuses', () => {
  it('derives a job id as the outbox SQL does: the name with dashes, the promotion, the history row', () => {
    // promotion-state-machine.ts: replace(name, '.', '-') || '-' || promotion_id || '-' || hist.id
    expect(jobIdFor(JobName.RunChecks, 'abc', '42')).toBe('promotion-run-checks-abc-42');
    expect(jobIdFor(JobName.Promote, 'abc', '7')).toBe('promotion-promote-abc-7');
    expect(requeueJobId('promotion-promote-abc-7', 0)).toBe('promotion-promote-abc-7');
    expect(requeueJobId('promotion-promote-abc-7', 2)).toBe('promotion-promote-abc-7-r2');
  });

  it('a working status is worked by the job that the transitions into it start', () => {
    expect(PROMOTION_STATUSES.filter((s) => jobWorking(s) !== null).sort()).toEqual(
      [S.Approved, S.Checking, S.Promoting, S.Received, S.Waiting].sort(),
    );
    // A wait is worked by its delayed release job, which the reconciler keeps live like any other.
    expect(jobStartedBy(S.Approved, S.Waiting)).toBe(jobWorking(S.Waiting));
    expect(jobStartedBy(null, S.Received)).toBe(jobWorking(S.Received));
    expect(jobStartedBy(S.Failed, S.Checking)).toBe(jobWorking(S.Checking));
    expect(jobStartedBy(S.Checking, S.Approved)).toBe(jobWorking(S.Approved));
    expect(jobStartedBy(S.Failed, S.Approved)).toBe(jobWorking(S.Promoting));
  });
});
