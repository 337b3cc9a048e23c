import {
  canTransition,
  CANCELLABLE_STATUSES,
  CHECK_DECISION_STATUS,
  isTerminal,
  LifecycleWork as W,
  PROMOTION_LIFECYCLE,
  PROMOTION_TRANSITIONS,
  retryTarget,
  workFor,
  workStartedBy,
} from './promotion-lifecycle';
import { PROMOTION_STATUSES, PromotionStatus as S } from './promotion-status';

/** The lifecycle of DESIGN.md, written out pair by pair: anything not listed here is forbidden. */
const ALLOWED: Array<[S, S]> = [
  [S.Received, S.Checking],
  [S.Received, S.Cancelled],
  [S.Checking, S.AwaitingApproval],
  [S.Checking, S.Approved],
  [S.Checking, S.Rejected],
  [S.Checking, S.Cancelled],
  [S.Checking, S.Failed],
  [S.AwaitingApproval, S.Approved],
  [S.AwaitingApproval, S.Rejected],
  [S.AwaitingApproval, S.Expired],
  [S.AwaitingApproval, S.Cancelled],
  [S.Approved, S.Promoting],
  [S.Approved, S.Cancelled],
  [S.Approved, S.Waiting],
  [S.Approved, S.Rejected],
  [S.Waiting, S.Approved],
  [S.Waiting, S.AwaitingApproval],
  [S.Waiting, S.Cancelled],
  [S.Promoting, S.Promoted],
  [S.Promoting, S.Failed],
  [S.Failed, S.Checking],
  [S.Failed, S.Approved],
  [S.Failed, S.Cancelled],
];

/** The transitions that start work, and which: every other pair (and creation) starts nothing. */
const STARTS: Array<[S | null, S, W]> = [
  [null, S.Received, W.Checks],
  [S.Failed, S.Checking, W.Checks],
  [S.Checking, S.Approved, W.Copy],
  [S.AwaitingApproval, S.Approved, W.Copy],
  [S.Failed, S.Approved, W.Copy],
  [S.Waiting, S.Approved, W.Copy],
  [S.Approved, S.Waiting, W.Release],
];

/** The work each status needs live; the rest wait for people or have ended. */
const WORKED: Partial<Record<S, W>> = {
  [S.Received]: W.Checks,
  [S.Checking]: W.Checks,
  [S.Approved]: W.Copy,
  [S.Promoting]: W.Copy,
  [S.Waiting]: W.Release,
};

describe('promotion lifecycle', () => {
  const allowed = new Set(ALLOWED.map(([a, b]) => `${a}->${b}`));
  const everyPair = PROMOTION_STATUSES.flatMap((from) =>
    PROMOTION_STATUSES.map((to) => [from, to] as [S, S]),
  );

  it.each(everyPair)('%s -> %s is allowed exactly when the lifecycle lists it', (from, to) => {
    expect(canTransition(from, to)).toBe(allowed.has(`${from}->${to}`));
  });

  it('lists the same transitions as the table in the code', () => {
    const fromTable = Object.entries(PROMOTION_TRANSITIONS).flatMap(([from, tos]) =>
      tos.map((to) => `${from}->${to}`),
    );
    expect(new Set(fromTable)).toEqual(allowed);
  });

  it('has exactly the four terminal statuses', () => {
    expect(PROMOTION_STATUSES.filter(isTerminal).sort()).toEqual(
      [S.Cancelled, S.Expired, S.Promoted, S.Rejected].sort(),
    );
  });

  it('cannot cancel a promotion that is being copied or has ended', () => {
    expect(CANCELLABLE_STATUSES).not.toContain(S.Promoting);
    expect(CANCELLABLE_STATUSES.filter(isTerminal)).toEqual([]);
  });

  it('never returns to received', () => {
    expect(PROMOTION_STATUSES.filter((s) => canTransition(s, S.Received))).toEqual([]);
  });

  it.each(PROMOTION_STATUSES)('%s is worked by the work the lifecycle names', (status) => {
    expect(workFor(status)).toBe(WORKED[status] ?? null);
  });

  it.each([...everyPair, ...PROMOTION_STATUSES.map((to) => [null, to] as [S | null, S])])(
    '%s -> %s starts exactly the work listed',
    (from, to) => {
      const listed = STARTS.find(([f, t]) => f === from && t === to)?.[2] ?? null;
      expect(workStartedBy(from, to)).toBe(listed);
    },
  );

  it('starts work only on allowed transitions, and only the work of the status entered', () => {
    for (const [from, to, work] of STARTS) {
      if (from !== null) expect(canTransition(from, to)).toBe(true);
      expect(workFor(to)).toBe(work);
    }
  });

  it('leaves no working status without a transition that starts its work', () => {
    for (const status of PROMOTION_STATUSES.filter((s) => workFor(s) !== null)) {
      // reached by a transition that starts the work, or only from a status the same work holds
      const into = [null, ...PROMOTION_STATUSES].filter((f) =>
        f === null ? status === S.Received : canTransition(f, status),
      );
      for (const from of into) {
        const started = workStartedBy(from, status) !== null;
        const inside = from !== null && workFor(from) === workFor(status);
        expect(started || inside).toBe(true);
      }
    }
  });

  it.each(PROMOTION_STATUSES)('a promotion failed from %s is retried at its stage', (failedFrom) => {
    const expected =
      { [S.Checking]: S.Checking, [S.Promoting]: S.Approved }[failedFrom as string] ?? S.Checking;
    expect(retryTarget(failedFrom)).toBe(expected);
  });

  it('retries only along allowed transitions, and from every status that can fail', () => {
    expect(retryTarget(null)).toBe(S.Checking);
    for (const status of PROMOTION_STATUSES.filter((s) => canTransition(s, S.Failed))) {
      const to = PROMOTION_LIFECYCLE[status].retryTo;
      expect(to).not.toBeNull();
      expect(canTransition(S.Failed, to as S)).toBe(true);
      expect(workStartedBy(S.Failed, to as S)).toBe(workFor(status));
    }
  });

  it('maps every check-stage decision to a status checking may move to', () => {
    expect(CHECK_DECISION_STATUS).toEqual({
      approved: S.Approved,
      awaiting_approval: S.AwaitingApproval,
      rejected: S.Rejected,
    });
    for (const to of Object.values(CHECK_DECISION_STATUS)) expect(canTransition(S.Checking, to)).toBe(true);
  });
});
