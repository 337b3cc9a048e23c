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

describe('policy sections of the chain: upstream, soak, freeze', () => {
  const base = { approvals: { required: 1 } };

  it('accepts a soak, a relaxed upstream rule and recurring and one-off freeze windows', () => {
    expect(
      policyDocumentProblems({
        ...base,
        upstream: { requireCurrent: false },
        soak: { duration: '24h' },
        freeze: {
          windows: [
            { name: 'weekend', kind: 'deny', cron: '0 18 * * 5', duration: '62h', timezone: 'Europe/Berlin' },
            { name: 'year-end', kind: 'deny', from: '2026-12-23T00:00:00Z', until: '2027-01-04T00:00:00Z' },
            { name: 'office', kind: 'allow', cron: '0 9 * * 1-5', duration: '8h', timezone: 'UTC' },
          ],
        },
      }),
    ).toEqual([]);
  });

  it('refuses typos, durations that are not durations, half windows and windows croner cannot read', () => {
    expect(policyDocumentProblems({ ...base, soak: { duration: '1 day' } })).not.toEqual([]);
    expect(policyDocumentProblems({ ...base, soak: { durration: '1h' } })).not.toEqual([]);
    expect(policyDocumentProblems({ ...base, upstream: { requireCurent: false } })).not.toEqual([]);
    expect(
      policyDocumentProblems({
        ...base,
        freeze: { windows: [{ name: 'x', kind: 'deny', cron: '0 1 * * *' }] },
      }),
    ).not.toEqual([]);
    expect(
      policyDocumentProblems({
        ...base,
        freeze: {
          windows: [
            { name: 'x', kind: 'block', from: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' },
          ],
        },
      }),
    ).not.toEqual([]);
    expect(
      policyDocumentProblems({
        ...base,
        freeze: {
          windows: [{ name: 'x', kind: 'deny', cron: '0 1 * * *', duration: '1h', timezone: 'Moon/Base' }],
        },
      }),
    ).toEqual(['/freeze/windows/0/timezone: "Moon/Base" is not an IANA time zone']);
  });
});
