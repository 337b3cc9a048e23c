/**
 * The lifecycle of a promotion request. This file is the only place that says which status may
 * follow which; the state machine service in libs/core enforces it in the database.
 *
 * received → checking → awaiting_approval → approved → promoting → promoted, with the exits
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

/** Allowed transitions: from → the statuses it may move to. Anything absent is forbidden. */
export const PROMOTION_TRANSITIONS: Readonly<Record<PromotionStatus, readonly PromotionStatus[]>> = {
  [PromotionStatus.Received]: [PromotionStatus.Checking, PromotionStatus.Cancelled],
  [PromotionStatus.Checking]: [
    PromotionStatus.AwaitingApproval,
    PromotionStatus.Approved,
    PromotionStatus.Rejected,
    PromotionStatus.Cancelled,
    PromotionStatus.Failed,
  ],
  [PromotionStatus.AwaitingApproval]: [
    PromotionStatus.Approved,
    PromotionStatus.Rejected,
    PromotionStatus.Expired,
    PromotionStatus.Cancelled,
  ],
  [PromotionStatus.Approved]: [PromotionStatus.Promoting, PromotionStatus.Cancelled],
  [PromotionStatus.Promoting]: [PromotionStatus.Promoted, PromotionStatus.Failed],
  [PromotionStatus.Promoted]: [],
  [PromotionStatus.Rejected]: [],
  [PromotionStatus.Expired]: [],
  [PromotionStatus.Cancelled]: [],
  // A retry goes back to the stage that failed: the checks, or the copy (through approved, which
  // starts the copy; the approvals it had still hold, as neither digest nor policy can change).
  [PromotionStatus.Failed]: [PromotionStatus.Checking, PromotionStatus.Approved, PromotionStatus.Cancelled],
};

export function canTransition(from: PromotionStatus, to: PromotionStatus): boolean {
  return PROMOTION_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: PromotionStatus): boolean {
  return PROMOTION_TRANSITIONS[status].length === 0;
}

/** Statuses from which a caller may cancel. */
export const CANCELLABLE_STATUSES: readonly PromotionStatus[] = PROMOTION_STATUSES.filter((s) =>
  canTransition(s, PromotionStatus.Cancelled),
);

export function isPromotionStatus(value: string): value is PromotionStatus {
  return (PROMOTION_STATUSES as readonly string[]).includes(value);
}
