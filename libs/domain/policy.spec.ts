import { CheckStatus, evaluateChecks } from './policy';
import { policyDocumentProblems } from './policy-schema';
import { canonicalHash } from './canonical-hash';

describe(evaluateChecks.name, () => {
  const policy = (required: number) => ({ approvals: { required } });
  it.each([
    ['no checks, no approvals', 0, [], 'approved'],
    ['no checks, approvals needed', 2, [], 'awaiting_approval'],
    [
      'a passing check, no approvals',
      0,
      [{ kind: 'sig', status: CheckStatus.Pass, summary: 'ok' }],
      'approved',
    ],
    ['a failing check', 0, [{ kind: 'sig', status: CheckStatus.Fail, summary: 'bad key' }], 'rejected'],
    [
      'a check that errored is never a pass',
      0,
      [{ kind: 'sig', status: CheckStatus.Error, summary: 'down' }],
      'rejected',
    ],
  ] as const)('%s → %s', (_name, required, checks, decision) => {
    expect(evaluateChecks(policy(required), checks).decision).toBe(decision);
  });

  it('returns every blocking reason, not just the first', () => {
    const out = evaluateChecks(policy(0), [
      { kind: 'a', status: CheckStatus.Fail, summary: 'one' },
      { kind: 'b', status: CheckStatus.Pass, summary: 'fine' },
      { kind: 'c', status: CheckStatus.Error, summary: 'two' },
    ]);
    expect(out.reasons).toEqual(['a: one', 'c: two']);
  });
});

describe(policyDocumentProblems.name, () => {
  it('accepts a valid document', () => {
    expect(policyDocumentProblems({ approvals: { required: 2 } })).toEqual([]);
  });
  it.each([
    [{}, /approvals/],
    [{ approvals: { required: -1 } }, />= 0/],
    [{ approvals: { required: 1.5 } }, /integer/],
    [{ approvals: { required: 1, extra: true } }, /unknown field "extra"/],
    [{ approvals: { required: 1 }, signatures: {} }, /signatures: must have required property 'keys'/],
    [{ approvals: { required: 1 }, scans: {} }, /fewer than 1 properties/],
    [
      {
        approvals: { required: 1 },
        signatures: { identities: [{ issuer: 'https://i', subjectRegExp: '.*' }] },
      },
      /unanchored_pattern/,
    ],
    [[], /object/],
    ['x', /object/],
  ])('refuses %j', (doc, message) => {
    expect(policyDocumentProblems(doc).join('; ')).toMatch(message);
  });
});

describe(canonicalHash.name, () => {
  it('does not depend on key order', () => {
    expect(canonicalHash({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalHash({ b: { d: 3, c: 2 }, a: 1 }));
  });
});
