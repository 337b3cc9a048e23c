import { CheckStatus } from './policy';
import {
  applyWaivers,
  waiverCovers,
  waiverProblems,
  waiversAllowedBy,
  waiverState,
  WaiverStatus,
  type WaiverRule,
} from './waivers';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const rule = (over: Partial<WaiverRule> = {}): WaiverRule => ({
  id: 'w1',
  check: 'vulnerabilities',
  finding: null,
  digest: null,
  repositoryPattern: 'acme/*',
  ...over,
});

describe(applyWaivers.name, () => {
  const failing = {
    kind: 'vulnerabilities',
    status: CheckStatus.Fail,
    summary: '2 blocking',
    findings: [
      { advisory: 'GHSA-1', aliases: ['CVE-1'], blocking: true },
      { advisory: 'GHSA-low', aliases: [], blocking: false },
      { advisory: 'GHSA-2', aliases: [], blocking: true },
    ],
    blocking: ['GHSA-1 line', 'GHSA-2 line', 'an unreadable SBOM entry'],
  };

  it('waives one finding by an alias, keeping the other causes blocking', () => {
    const r = applyWaivers(failing, [rule({ finding: 'CVE-1' })]);
    expect(r.status).toBe(CheckStatus.Fail);
    expect(r.blocking).toEqual(['GHSA-2 line', 'an unreadable SBOM entry']);
    expect(r.findings[0]).toMatchObject({ blocking: false, waived: 'w1' });
    expect(r.waivers).toEqual([{ waiver: 'w1', finding: 'CVE-1' }]);
  });

  it('is `waived`, never `pass`, once every blocking cause is waived', () => {
    const onlyFindings = { ...failing, blocking: ['GHSA-1 line', 'GHSA-2 line'] };
    const r = applyWaivers(onlyFindings, [
      rule({ id: 'a', finding: 'GHSA-1' }),
      rule({ id: 'b', finding: 'GHSA-2' }),
    ]);
    expect(r.status).toBe(CheckStatus.Waived);
    expect(r.blocking).toEqual([]);
    expect(r.summary).toBe('2 blocking — 2 finding(s) waived by a, b');
  });

  it('waives a whole check, but never one that errored or passed, nor another kind', () => {
    expect(applyWaivers(failing, [rule()])).toMatchObject({
      status: CheckStatus.Waived,
      waivers: [{ waiver: 'w1', finding: null }],
    });
    expect(applyWaivers({ ...failing, status: CheckStatus.Error }, [rule()]).status).toBe(CheckStatus.Error);
    expect(applyWaivers({ ...failing, status: CheckStatus.Pass }, [rule()]).waivers).toEqual([]);
    expect(applyWaivers(failing, [rule({ check: 'licenses' })]).status).toBe(CheckStatus.Fail);
  });

  it('names secret fingerprints and licenses too', () => {
    const secrets = {
      kind: 'secrets',
      status: CheckStatus.Fail,
      summary: '1 secret',
      findings: [{ fingerprint: 'fp-1', blocking: true }],
      blocking: ['key in /app'],
    };
    expect(applyWaivers(secrets, [rule({ check: 'secrets', finding: 'fp-1' })]).status).toBe(
      CheckStatus.Waived,
    );
  });
});

describe(waiverProblems.name, () => {
  const base = {
    check: 'vulnerabilities',
    finding: null,
    digest: null,
    repositoryPattern: 'acme/*',
    from: NOW,
    now: NOW,
  };

  it.each([
    ['no section', undefined, {}, /allows no waivers/],
    ['a signature check', { maxDays: 30 }, { check: 'signatures' }, /allowSignatureWaivers/],
    ['an attestation check', { maxDays: 30 }, { check: 'attestations' }, /allowSignatureWaivers/],
    ['too far out', { maxDays: 30 }, { expiresAt: new Date(NOW + 31 * DAY) }, /at most 30 day/],
    ['in the past', { maxDays: 30 }, { expiresAt: new Date(NOW - 1) }, /future/],
    ['both scopes', { maxDays: 30 }, { digest: `sha256:${'a'.repeat(64)}` }, /exactly one/],
    ['no scope', { maxDays: 30 }, { repositoryPattern: null }, /exactly one/],
  ])('refuses %s', (_, section, over, problem) => {
    expect(waiverProblems(section, { ...base, expiresAt: new Date(NOW + DAY), ...over }).join('; ')).toMatch(
      problem,
    );
  });

  it('allows a signature waiver only where the policy says so, within maxDays', () => {
    const w = { ...base, check: 'signatures', expiresAt: new Date(NOW + 30 * DAY) };
    expect(waiverProblems({ maxDays: 30, allowSignatureWaivers: true }, w)).toEqual([]);
  });
});

describe('waiver scope and state', () => {
  it('covers a digest exactly, or repositories by pattern', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(waiverCovers(rule({ digest, repositoryPattern: null }), { repository: 'x/y', digest })).toBe(true);
    expect(waiverCovers(rule(), { repository: 'acme/app', digest })).toBe(true);
    expect(waiverCovers(rule(), { repository: 'acme/app/sub', digest })).toBe(false);
  });

  it('applies only where the policy has a waivers section, signature waivers only where allowed', () => {
    const all = [rule(), rule({ id: 's', check: 'signatures' })];
    expect(waiversAllowedBy(undefined, all)).toEqual([]);
    expect(waiversAllowedBy({ maxDays: 5 }, all).map((w) => w.id)).toEqual(['w1']);
    expect(waiversAllowedBy({ maxDays: 5, allowSignatureWaivers: true }, all)).toHaveLength(2);
  });

  it('reads a granted waiver past its expiry as expired', () => {
    const at = new Date(NOW);
    expect(waiverState(WaiverStatus.Granted, at, NOW - 1)).toBe('active');
    expect(waiverState(WaiverStatus.Granted, at, NOW)).toBe('expired');
    expect(waiverState(WaiverStatus.Requested, at, NOW - 1)).toBe('requested');
    expect(waiverState(WaiverStatus.Revoked, at, NOW - 1)).toBe('revoked');
  });
});
