/**
 * The statuses of a promotion request. Which status may follow which, and what each one starts,
 * is the lifecycle table in promotion-lifecycle.ts; the state machine in libs/core enforces it.
 *
 * received → checking → awaiting_approval → approved (⇄ waiting) → promoting → promoted, with the exits
 * rejected (a rule said no), expired (nobody decided in time), cancelled (someone stopped it) and
 * failed (a technical failure that exhausted its retries; it can be retried).
 */
export enum PromotionStatus {
  /** Accepted at intake; the check stage has not started. */
  Received = 'received',
  /** The worker is running the checks the pinned policy asks for. */
  Checking = 'checking',
  /** Checks passed; waiting for the approvals the policy requires. */
  AwaitingApproval = 'awaiting_approval',
  /** Every requirement is met; the promoter may copy the artifact. */
  Approved = 'approved',
  /**
   * Approved, but held until a time: the soak in the upstream environment has not ended, or a
   * freeze window is on. `waitingFor` and `waitingUntil` say which and until when; it moves on by
   * itself (a delayed job), back to approved.
   */
  Waiting = 'waiting',
  /** The promoter is copying the artifact to the target registry. */
  Promoting = 'promoting',
  /** Terminal: the artifact is in the target registry, digest verified. */
  Promoted = 'promoted',
  /** Terminal: a check failed or an approver rejected. */
  Rejected = 'rejected',
  /** Terminal: the request waited longer than the policy's pending timeout. */
  Expired = 'expired',
  /** Terminal: the requester or an admin withdrew it. */
  Cancelled = 'cancelled',
  /** A check could not run or the copy failed after its retries; may be retried. */
  Failed = 'failed',
}

export const PROMOTION_STATUSES: readonly PromotionStatus[] = Object.values(PromotionStatus);

export function isPromotionStatus(value: string): value is PromotionStatus {
  return (PROMOTION_STATUSES as readonly string[]).includes(value);
}
