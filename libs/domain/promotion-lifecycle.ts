import { PROMOTION_STATUSES, PromotionStatus as S } from './promotion-status';
import { type EvaluationOutcome } from './policy';

/**
 * The kinds of background work the lifecycle starts. The job names and queues that carry them are
 * libs/jobs' business (`JOB_OF_WORK` there); the domain only says which work a status needs.
 */
export enum LifecycleWork {
  /** The check stage, then the evaluation of the pinned policy. */
  Checks = 'checks',
  /** The copy to the target registry and Airlock's attestation. */
  Copy = 'copy',
  /** The end of a wait (soak, freeze): a job delayed until `waitingUntil` that releases it. */
  Release = 'release',
}

/** What the lifecycle says about one status. */
export interface StatusRule {
  /** The statuses it may move to; none for a final status. */
  readonly next: readonly S[];
  /** The work that moves a promotion on from here; it must be live while the promotion is here. */
  readonly work: LifecycleWork | null;
  /**
   * Which entries into this status start `work` (null: the intake's creation). An entry from
   * elsewhere happens inside the job already running (the check stage's own received → checking
   * must not start a second check stage; a retry's failed → checking must).
   */
  readonly startsWorkFrom: 'any' | readonly (S | null)[];
  /** A promotion that failed here is retried by moving it from failed to this status. */
  readonly retryTo: S | null;
}

/**
 * The lifecycle of a promotion request, the one place that says it:
 *
 * received → checking → awaiting_approval → approved → promoting → promoted, with the exits
 * rejected (a rule said no), expired (nobody decided in time), cancelled (someone stopped it) and
 * failed (a technical failure that exhausted its retries; it can be retried at the stage that failed).
 * An approved promotion whose gate (chain, soak, freeze windows: promotion-gate.ts) says "not yet"
 * waits, and is released back to approved when the wait ends; back to awaiting_approval instead
 * when its approvals expired meanwhile; rejected when the upstream no longer holds its digest.
 */
export const PROMOTION_LIFECYCLE: Readonly<Record<S, StatusRule>> = {
  [S.Received]: {
    next: [S.Checking, S.Cancelled],
    work: LifecycleWork.Checks,
    startsWorkFrom: 'any',
    retryTo: null,
  },
  [S.Checking]: {
    next: [S.AwaitingApproval, S.Approved, S.Rejected, S.Cancelled, S.Failed],
    work: LifecycleWork.Checks,
    startsWorkFrom: [S.Failed],
    retryTo: S.Checking,
  },
  [S.AwaitingApproval]: {
    next: [S.Approved, S.Rejected, S.Expired, S.Cancelled],
    work: null,
    startsWorkFrom: [],
    retryTo: null,
  },
  // The copy job evaluates the gate first: approved → waiting (not yet), or rejected (the upstream
  // no longer holds the digest), else approved → promoting.
  [S.Approved]: {
    next: [S.Promoting, S.Waiting, S.Rejected, S.Cancelled],
    work: LifecycleWork.Copy,
    startsWorkFrom: 'any',
    retryTo: null,
  },
  // Entering waiting starts the release job, delayed until waitingUntil. Break-glass may move a
  // promotion waiting for a freeze to approved (overriding the freeze).
  [S.Waiting]: {
    next: [S.Approved, S.AwaitingApproval, S.Cancelled],
    work: LifecycleWork.Release,
    startsWorkFrom: 'any',
    retryTo: null,
  },
  // A failed copy is retried through approved, which starts the copy; the approvals it had still
  // hold, as neither digest nor policy can change.
  [S.Promoting]: {
    next: [S.Promoted, S.Failed],
    work: LifecycleWork.Copy,
    startsWorkFrom: [],
    retryTo: S.Approved,
  },
  [S.Promoted]: { next: [], work: null, startsWorkFrom: [], retryTo: null },
  [S.Rejected]: { next: [], work: null, startsWorkFrom: [], retryTo: null },
  [S.Expired]: { next: [], work: null, startsWorkFrom: [], retryTo: null },
  [S.Cancelled]: { next: [], work: null, startsWorkFrom: [], retryTo: null },
  [S.Failed]: { next: [S.Checking, S.Approved, S.Cancelled], work: null, startsWorkFrom: [], retryTo: null },
};

/** The status a promotion is created in, by the intake. */
export const INITIAL_STATUS = S.Received;

/** How the check stage's evaluation of the pinned policy moves a promotion out of checking. */
export const CHECK_DECISION_STATUS: Readonly<Record<EvaluationOutcome['decision'], S>> = {
  approved: S.Approved,
  awaiting_approval: S.AwaitingApproval,
  rejected: S.Rejected,
};

/** Allowed transitions: from → the statuses it may move to. Anything absent is forbidden. */
export const PROMOTION_TRANSITIONS: Readonly<Record<S, readonly S[]>> = Object.fromEntries(
  PROMOTION_STATUSES.map((s) => [s, PROMOTION_LIFECYCLE[s].next]),
) as Record<S, readonly S[]>;

export function canTransition(from: S, to: S): boolean {
  return PROMOTION_LIFECYCLE[from].next.includes(to);
}

export function isTerminal(status: S): boolean {
  return PROMOTION_LIFECYCLE[status].next.length === 0;
}

/** Statuses from which a caller may cancel. */
export const CANCELLABLE_STATUSES: readonly S[] = PROMOTION_STATUSES.filter((s) =>
  canTransition(s, S.Cancelled),
);

/** The work a transition starts (`from` null: the intake's creation as received), or null. */
export function workStartedBy(from: S | null, to: S): LifecycleWork | null {
  if (from === null ? to !== INITIAL_STATUS : !canTransition(from, to)) return null;
  const rule = PROMOTION_LIFECYCLE[to];
  if (rule.work === null) return null;
  return rule.startsWorkFrom === 'any' || rule.startsWorkFrom.includes(from) ? rule.work : null;
}

/** The work a promotion in this status needs live, or null when nothing works it. */
export function workFor(status: S): LifecycleWork | null {
  return PROMOTION_LIFECYCLE[status].work;
}

/**
 * Where a retry of a failed promotion goes: back to the stage it failed in (`failedFrom`, the status
 * it moved to failed from); the checks when that is unknown.
 */
export function retryTarget(failedFrom: S | null): S {
  return (failedFrom && PROMOTION_LIFECYCLE[failedFrom].retryTo) ?? S.Checking;
}
