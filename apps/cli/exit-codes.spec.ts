import { PROMOTION_STATUSES, PromotionStatus } from '../../libs/domain/promotion-status';
import { checksSettled, ExitCode, exitCodeForStatus, WAIT_SETTLED } from './exit-codes';

describe('exit codes', () => {
  it('maps every promotion status', () => {
    const codes = Object.fromEntries(PROMOTION_STATUSES.map((s) => [s, exitCodeForStatus(s)]));
    expect(codes).toEqual({
      received: 0,
      checking: 0,
      awaiting_approval: 0,
      approved: 0,
      waiting: 0,
      promoting: 0,
      promoted: 0,
      rejected: 2,
      expired: 3,
      cancelled: 3,
      failed: 4,
    });
  });

  it('keeps the documented numbers', () => {
    expect([
      ExitCode.Ok,
      ExitCode.Error,
      ExitCode.Rejected,
      ExitCode.ExpiredOrCancelled,
      ExitCode.Failed,
      ExitCode.Timeout,
      ExitCode.AuditBroken,
      ExitCode.AttestationInvalid,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('--wait stops at every outcome, and only there', () => {
    const settled = PROMOTION_STATUSES.filter((s) => WAIT_SETTLED.has(s));
    expect(settled.sort()).toEqual(['cancelled', 'expired', 'failed', 'promoted', 'rejected']);
    expect(WAIT_SETTLED.has(PromotionStatus.AwaitingApproval)).toBe(false);
  });

  it('without --wait, stops once the automatic checks are over', () => {
    expect(PROMOTION_STATUSES.filter((s) => !checksSettled(s))).toEqual(['received', 'checking']);
  });
});
