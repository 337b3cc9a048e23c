import { generateKeyPairSync } from 'node:crypto';
import { policyDocumentProblems } from './policy-schema';
import { exceptionApplies, isRealTimestamp } from './scan-policy';

const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const signatures = { keys: [{ name: 'k', publicKey }] };

describe('the scans section of a policy', () => {
  const doc = (scans: unknown, withSigners = true) => ({
    approvals: { required: 0 },
    ...(withSigners ? {} : {}),
    scans,
  });

  it('accepts every section', () => {
    const problems = policyDocumentProblems({
      approvals: { required: 0 },
      scans: {
        secrets: {
          allow: [{ fingerprint: '0123456789abcdef', reason: 'test key', expires: '2027-01-01T00:00:00Z' }],
          rules: ['acme', 'payments_team'],
          allowPaths: [
            {
              path: '^usr/lib/python3/.*/tests?/',
              reason: 'vendored tests',
              expires: '2027-01-01T00:00:00Z',
            },
          ],
        },
        vulnerabilities: {
          maxSeverity: 'high',
          fixableOnly: true,
          allow: [{ id: 'CVE-2026-1', reason: 'not reachable', expires: '2027-01-01T00:00:00Z' }],
        },
        licenses: { allow: ['MIT', 'GPL-2.0+'], deny: ['AGPL-3.0-only'], unknown: 'warn' },
      },
    }).filter((p) => !p.includes('/signatures'));
    // Without signers the SBOM-based scans are refused (below); only that problem is expected here.
    expect(problems).toEqual([
      expect.stringMatching(/^\/scans: vulnerability and license scans read the attested SBOM/),
    ]);
  });

  it.each([
    ['an unknown scan', { viruses: {} }, /unknown field "viruses"/],
    ['an empty section', {}, /fewer than 1 properties/],
    ['an unknown severity', { vulnerabilities: { maxSeverity: 'severe' } }, /allowed values/],
    ['a ceiling missing', { vulnerabilities: {} }, /maxSeverity/],
    [
      'an exception without a reason',
      { vulnerabilities: { maxSeverity: 'low', allow: [{ id: 'X', expires: '2027-01-01T00:00:00Z' }] } },
      /reason/,
    ],
    [
      'an exception without an expiry',
      { secrets: { allow: [{ fingerprint: '0123456789abcdef', reason: 'r' }] } },
      /expires/,
    ],
    [
      'a date that does not exist',
      {
        secrets: {
          allow: [{ fingerprint: '0123456789abcdef', reason: 'r', expires: '2027-02-30T00:00:00Z' }],
        },
      },
      /not a real date/,
    ],
    [
      'a fingerprint that is not one',
      { secrets: { allow: [{ fingerprint: 'secret!', reason: 'r', expires: '2027-01-01T00:00:00Z' }] } },
      /pattern/,
    ],
    [
      'an allow-listed path that is not RE2',
      { secrets: { allowPaths: [{ path: '(?<=x)tests/', reason: 'r', expires: '2027-01-01T00:00:00Z' }] } },
      /allowPaths\/0\/path: .*RE2/,
    ],
    [
      'an allow-listed path without an expiry',
      { secrets: { allowPaths: [{ path: 'tests/', reason: 'r' }] } },
      /expires/,
    ],
    ['a rule set name that is not one', { secrets: { rules: ['../etc/passwd'] } }, /pattern/],
    ['a license SPDX does not know', { licenses: { deny: ['Not-A-License'] } }, /not an SPDX license id/],
    ['an expression in a list of ids', { licenses: { allow: ['MIT OR ISC'] } }, /not an SPDX license id/],
    ['licenses with neither list', { licenses: { unknown: 'warn' } }, /allow|deny/],
  ])('refuses %s', (_what, scans, message) => {
    expect(policyDocumentProblems(doc(scans)).join('\n')).toMatch(message);
  });

  it('SBOM-based scans need signers; the secret scan does not', () => {
    expect(policyDocumentProblems({ approvals: { required: 0 }, scans: { secrets: {} } })).toEqual([]);
    expect(
      policyDocumentProblems({
        approvals: { required: 0 },
        signatures,
        scans: { licenses: { deny: ['GPL-3.0-only'] } },
      }),
    ).toEqual([]);
  });

  it.each([
    ['2027-01-31T23:59:59Z', true],
    ['2027-01-31T23:59:59.123+02:00', true],
    ['2028-02-29T00:00:00Z', true],
    ['2027-02-29T00:00:00Z', false],
    ['2027-04-31T00:00:00Z', false],
    ['2027-01-01T24:00:00Z', false],
    ['2027-01-01', false],
  ])('timestamp %s is real: %s', (value, real) => expect(isRealTimestamp(value)).toBe(real));

  it('exceptions count until they expire', () => {
    const e = { reason: 'r', expires: '2026-12-01T00:00:00Z' };
    expect(exceptionApplies(e, new Date('2026-11-30T23:59:59Z'))).toBe(true);
    expect(exceptionApplies(e, new Date('2026-12-01T00:00:00Z'))).toBe(false);
  });
});
