import { ChangeStatus, isProposer, rejectOutcome } from './change-rules';
import { type PersonNames } from './persons';

const erin: PersonNames = { person: 'erin@https://p', aliases: ['erin@https://p', 'handle:erin'] };
const frank: PersonNames = { person: 'frank@https://p', aliases: ['frank@https://p', 'handle:frank'] };
/** frank's account linked to erin's person. */
const frankAsErin: PersonNames = { person: 'erin@https://p', aliases: ['erin@https://p', 'frank@https://p'] };

describe(isProposer.name, () => {
  it.each([
    ['the proposer', erin, ['erin@https://p'], true],
    ['another person', frank, ['erin@https://p'], false],
    ['a second account linked to the proposer', frankAsErin, ['erin@https://p'], true],
    // Recorded then as erin's own key; linked now to a person id: either name counts.
    [
      'the proposer under a person id linked since',
      { person: 'p1', aliases: ['p1', 'erin@https://p'] },
      ['erin@https://p', 'p1'],
      true,
    ],
    ['no proposer names at all', frank, [], false],
  ])('%s', (_name, decider, proposer, expected) => {
    expect(isProposer(decider, proposer)).toBe(expected);
  });
});

describe(rejectOutcome.name, () => {
  it('withdraws when the proposer (or their linked account) rejects', () => {
    expect(rejectOutcome(erin, ['erin@https://p'])).toBe(ChangeStatus.Withdrawn);
    expect(rejectOutcome(frankAsErin, ['erin@https://p'])).toBe(ChangeStatus.Withdrawn);
  });
  it('rejects when someone else does', () => {
    expect(rejectOutcome(frank, ['erin@https://p'])).toBe(ChangeStatus.Rejected);
  });
});
