import { diffPolicies } from './policy-diff';
import { summarizeReplay, sameCheckSection } from './policy-evaluation';

describe(diffPolicies.name, () => {
  const base = { approvals: { required: 1 }, scans: { vulnerabilities: { maxSeverity: 'high' as const } } };

  it('names each changed section with a line per difference, and leaves equal sections out', () => {
    const next = {
      approvals: { required: 2, expiresAfter: '24h' },
      scans: {
        vulnerabilities: {
          maxSeverity: 'medium' as const,
          allow: [{ id: 'CVE-1', reason: 'r', expires: '2099-01-01T00:00:00Z' }],
        },
      },
      signatures: { keys: [{ name: 'k', publicKey: 'pem' }] },
    };
    expect(diffPolicies(base, next)).toEqual([
      {
        section: 'approvals',
        change: 'changed',
        lines: ['approvals.expiresAfter: added "24h"', 'approvals.required: 1 → 2'],
      },
      {
        section: 'signatures',
        change: 'added',
        lines: ['signatures: added {"keys":[{"name":"k","publicKey":"pem"}]}'],
      },
      {
        section: 'scans.vulnerabilities',
        change: 'changed',
        lines: [
          'scans.vulnerabilities.allow: added [{"id":"CVE-1","reason":"r","expires":"2099-01-01T00:00:00Z"}]',
          'scans.vulnerabilities.maxSeverity: "high" → "medium"',
        ],
      },
    ]);
    expect(diffPolicies(base, base)).toEqual([]);
  });

  it('reads lists by membership: an added entry, a removed one, or only a new order', () => {
    const a = { approvals: { rules: [{ name: 'x', required: 1, groups: ['a', 'b'] }] } };
    const b = { approvals: { rules: [{ name: 'x', required: 1, groups: ['b', 'c'] }] } };
    const c = { approvals: { rules: [{ name: 'x', required: 1, groups: ['b', 'a'] }] } };
    expect(diffPolicies(a, b)[0].lines).toEqual([
      'approvals.rules: added {"name":"x","required":1,"groups":["b","c"]}',
      'approvals.rules: removed {"name":"x","required":1,"groups":["a","b"]}',
    ]);
    expect(diffPolicies(a, c)[0].lines).toEqual([
      'approvals.rules: added {"name":"x","required":1,"groups":["b","a"]}',
      'approvals.rules: removed {"name":"x","required":1,"groups":["a","b"]}',
    ]);
    expect(
      diffPolicies(
        {
          approvals: {
            rules: [
              { name: 'x', required: 1 },
              { name: 'y', required: 1 },
            ],
          },
        },
        {
          approvals: {
            rules: [
              { name: 'y', required: 1 },
              { name: 'x', required: 1 },
            ],
          },
        },
      )[0].lines,
    ).toEqual(['approvals.rules: reordered']);
  });
});

describe('proposed-policy evaluation rules', () => {
  it('reuses a stored check only when the part of the policy it depends on is the same', () => {
    const signed = { approvals: { required: 0 }, signatures: { keys: [{ name: 'k', publicKey: 'p' }] } };
    const stricter = { ...signed, approvals: { required: 3 }, scans: { secrets: {} } };
    expect(sameCheckSection(signed, stricter, 'signatures')).toBe(true);
    expect(sameCheckSection(signed, stricter, 'secrets')).toBe(false);
    expect(sameCheckSection(signed, { ...signed, signatures: { keys: [] } }, 'vulnerabilities')).toBe(false);
  });

  it('counts what a version would have rejected, and what was not rejected then', () => {
    expect(
      summarizeReplay([
        { verdict: 'rejected', status: 'promoted' },
        { verdict: 'rejected', status: 'rejected' },
        { verdict: 'approved', status: 'promoted' },
        { verdict: 'undetermined', status: 'promoted' },
      ]),
    ).toMatchObject({
      evaluated: 4,
      wouldReject: 2,
      newlyRejected: 1,
      summary:
        'this version would have rejected 2 of the last 4 (1 not rejected then); 1 could not be judged',
    });
  });
});
