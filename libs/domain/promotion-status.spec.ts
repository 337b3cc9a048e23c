import {
  canTransition,
  CANCELLABLE_STATUSES,
  isTerminal,
  PROMOTION_STATUSES,
  PROMOTION_TRANSITIONS,
  PromotionStatus as S,
} from './promotion-status';

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
  [S.Promoting, S.Promoted],
  [S.Promoting, S.Failed],
  [S.Failed, S.Checking],
  [S.Failed, S.Approved],
  [S.Failed, S.Cancelled],
];

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
});
