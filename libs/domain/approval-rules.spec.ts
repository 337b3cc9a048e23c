import {
  ApprovalRefusal,
  approvalRequirements,
  type ApprovalsSection,
  countApprovals,
  type Decider,
  refusalFor,
  tallyApprovals,
} from './approval-rules';

const H = 3600_000;
const req = (s: ApprovalsSection) => approvalRequirements(s);
const parties = { requesterPerson: 'ci-app', authorPersons: ['carol'] };
const decider = (person: string, groups: string[] = ['release-managers'], isApprover = true): Decider => ({
  person,
  aliases: [person],
  groups,
  isApprover,
});

describe(refusalFor.name, () => {
  const twoGroups = req({
    rules: [
      { name: 'release', required: 1, groups: ['release-managers'] },
      { name: 'sec', required: 1, groups: ['security'] },
    ],
  });
  it.each([
    ['an approver in a rule group', decider('alice'), req({ required: 1 }), 'approve', null],
    [
      'someone without the approver role',
      decider('dave', [], false),
      req({ required: 1 }),
      'approve',
      ApprovalRefusal.NotApprover,
    ],
    ['the requester', decider('ci-app'), req({ required: 1 }), 'approve', ApprovalRefusal.SelfApproval],
    [
      'the requester, when the policy allows it',
      decider('ci-app'),
      req({ required: 1, separationOfDuties: { requesterCannotApprove: false } }),
      'approve',
      null,
    ],
    [
      'the commit author / CI actor',
      decider('carol'),
      req({ required: 1 }),
      'approve',
      ApprovalRefusal.CommitAuthor,
    ],
    [
      'the author, when the policy allows it',
      decider('carol'),
      req({ required: 1, separationOfDuties: { authorCannotApprove: false } }),
      'approve',
      null,
    ],
    [
      'the author rejecting (still refused: no say on their own change)',
      decider('carol'),
      req({ required: 1 }),
      'reject',
      ApprovalRefusal.CommitAuthor,
    ],
    [
      'an approver in none of the rules groups',
      decider('erin', ['platform-admins']),
      twoGroups,
      'approve',
      ApprovalRefusal.NotInRuleGroups,
    ],
    [
      'an approver outside the groups may still reject',
      decider('erin', ['platform-admins']),
      twoGroups,
      'reject',
      null,
    ],
    ['an approver in the second rule group', decider('bob', ['security']), twoGroups, 'approve', null],
    [
      'the author under a linked alias',
      { ...decider('p-42'), aliases: ['p-42', 'carol'] },
      req({ required: 1 }),
      'approve',
      ApprovalRefusal.CommitAuthor,
    ],
  ] as const)('%s → %s', (_name, d, r, decision, expected) => {
    expect(refusalFor(d, parties, r, decision)).toBe(expected);
  });
});

describe(tallyApprovals.name, () => {
  const now = 100 * H;
  const a = (person: string, groups: string[], hoursAgo = 1) => ({ person, groups, at: now - hoursAgo * H });

  it('needs the count of distinct people', () => {
    const r = req({ required: 2 });
    expect(tallyApprovals([a('alice', [])], r, now)).toMatchObject({
      satisfied: false,
      missing: { approvals: 1 },
    });
    expect(tallyApprovals([a('alice', []), a('alice', [])], r, now).satisfied).toBe(false);
    expect(tallyApprovals([a('alice', []), a('bob', [])], r, now).satisfied).toBe(true);
  });

  it('counts one person once across rules', () => {
    const r = req({
      rules: [
        { name: 'release', required: 1, groups: ['rm'] },
        { name: 'sec', required: 1, groups: ['sec'] },
      ],
    });
    expect(tallyApprovals([a('bob', ['rm', 'sec'])], r, now)).toMatchObject({ satisfied: false });
    expect(tallyApprovals([a('bob', ['rm', 'sec']), a('alice', ['rm'])], r, now)).toMatchObject({
      satisfied: true,
      assignment: { release: ['alice'], sec: ['bob'] },
    });
  });

  it('finds the assignment whatever the order of approvals (matching, not first come)', () => {
    const r = req({
      rules: [
        { name: 'release', required: 1, groups: ['rm'] },
        { name: 'sec', required: 1, groups: ['sec'] },
      ],
    });
    // bob could fill either rule; if he were greedily put in "release", alice could not fill "sec".
    expect(tallyApprovals([a('bob', ['rm', 'sec']), a('alice', ['rm'])], r, now).satisfied).toBe(true);
    expect(tallyApprovals([a('alice', ['rm']), a('bob', ['rm', 'sec'])], r, now).satisfied).toBe(true);
  });

  it('ignores approvals older than expiresAfter', () => {
    const r = req({ required: 2, expiresAfter: '24h' });
    const t = tallyApprovals([a('alice', [], 25), a('bob', [], 2)], r, now);
    expect(t).toMatchObject({ satisfied: false, expired: ['alice'] });
  });

  it('is satisfied at once when no approvals are required', () => {
    expect(tallyApprovals([], req({ required: 0 }), now).satisfied).toBe(true);
  });
});

describe(approvalRequirements.name, () => {
  it('turns on separation of duties by default', () => {
    expect(approvalRequirements({ required: 1 }).separationOfDuties).toEqual({
      requesterCannotApprove: true,
      authorCannotApprove: true,
    });
  });
  it('parses durations', () => {
    expect(approvalRequirements({ required: 1, expiresAfter: '24h', pendingTimeout: '7d' })).toMatchObject({
      expiresAfterSeconds: 86400,
      pendingTimeoutSeconds: 604800,
    });
  });
});

describe(countApprovals.name, () => {
  const now = 10 * H;
  const one = req({ required: 1 });
  const two = req({ required: 2 });
  const standing = (d: Decider, at = now - H) => ({ decider: d, at });

  it('counts approvers who still may approve', () => {
    const c = countApprovals([standing(decider('alice')), standing(decider('bob'))], parties, two, now);
    expect(c).toMatchObject({ satisfied: true, lapsed: [] });
  });

  it('leaves out an approver whose role was removed since', () => {
    const c = countApprovals(
      [standing(decider('alice', ['release-managers'], false)), standing(decider('bob'))],
      parties,
      two,
      now,
    );
    expect(c.satisfied).toBe(false);
    expect(c.missing).toEqual({ approvals: 1 });
    expect(c.lapsed).toEqual([{ person: 'alice', refusal: ApprovalRefusal.NotApprover }]);
  });

  it('leaves out an approver linked to the requester since', () => {
    const c = countApprovals([standing(decider('ci-app'))], parties, one, now);
    expect(c).toMatchObject({ satisfied: false, lapsed: [{ person: 'ci-app', refusal: 'self_approval' }] });
  });

  it('leaves out an approver who left the rule’s groups', () => {
    const rule = req({ rules: [{ name: 'sec', required: 1, groups: ['security'] }] });
    const c = countApprovals([standing(decider('bob', ['release-managers']))], parties, rule, now);
    expect(c).toMatchObject({ satisfied: false, lapsed: [{ person: 'bob', refusal: 'not_in_rule_groups' }] });
  });

  it('still expires old approvals', () => {
    const c = countApprovals(
      [standing(decider('alice'), now - 30 * H)],
      parties,
      req({ required: 1, expiresAfter: '24h' }),
      now,
    );
    expect(c).toMatchObject({ satisfied: false, expired: ['alice'], lapsed: [] });
  });
});
