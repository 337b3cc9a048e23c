import { CheckStatus, type VulnerabilitiesScanSection } from '../domain';
import { identityOfPurl, type SbomPackage } from '../sbom';
import { type AdvisoryCandidate, candidateKey, matchVulnerabilities } from './match';

const pkg = (purl: string): SbomPackage => {
  const { identity, version } = identityOfPurl(purl);
  return { name: identity?.name ?? purl, version, purl, identity, license: null };
};

const advisory = (
  id: string,
  ecosystem: string,
  name: string,
  fixed: string | null,
  severity: AdvisoryCandidate['severity'],
  aliases: string[] = [],
): AdvisoryCandidate => ({
  id,
  aliases,
  summary: `${id} summary`,
  severity,
  ecosystem,
  release: '',
  name,
  affected: [
    {
      package: { ecosystem, name },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, ...(fixed ? [{ fixed }] : [])] }],
    },
  ],
});

const critical = {
  severity: 'critical' as const,
  score: 9.8,
  vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
};
const low = { severity: 'low' as const, score: 3.1, vector: null };
const unrated = { severity: 'unknown' as const, score: null, vector: null };

function index(...cs: AdvisoryCandidate[]): Map<string, AdvisoryCandidate[]> {
  const m = new Map<string, AdvisoryCandidate[]>();
  for (const c of cs)
    m.set(candidateKey(c.ecosystem, c.name), [...(m.get(candidateKey(c.ecosystem, c.name)) ?? []), c]);
  return m;
}

const now = new Date('2026-11-22T00:00:00Z');
const policy: VulnerabilitiesScanSection = { maxSeverity: 'medium' };

describe(matchVulnerabilities.name, () => {
  const db = index(
    advisory('GHSA-crit', 'PyPI', 'django', '4.2.8', critical, ['CVE-2023-0001']),
    advisory('GHSA-low', 'PyPI', 'django', '4.2.9', low),
    advisory('GHSA-nofix', 'npm', 'left-pad', null, critical),
  );

  it('blocks findings above the ceiling and says how to fix each', () => {
    const r = matchVulnerabilities([pkg('pkg:pypi/Django@4.2.7')], db, policy, now);
    expect(r.status).toBe(CheckStatus.Fail);
    expect(r.findings.map((f) => [f.advisory, f.blocking, f.fixedIn])).toEqual([
      ['GHSA-crit', true, '4.2.8'],
      ['GHSA-low', false, '4.2.9'],
    ]);
    expect(r.blocking).toEqual([
      'GHSA-crit (CVE-2023-0001) critical 9.8 in pkg:pypi/Django@4.2.7: upgrade django to 4.2.8 or later',
    ]);
    expect(r.findings[1].note).toMatch(/within the ceiling/);
  });

  it('passes a fixed version', () => {
    const r = matchVulnerabilities([pkg('pkg:pypi/django@4.2.9')], db, policy, now);
    expect(r).toMatchObject({ status: CheckStatus.Pass, findings: [] });
  });

  it('fixableOnly: a finding without a fixed version does not block', () => {
    const r = matchVulnerabilities(
      [pkg('pkg:npm/left-pad@1.3.0')],
      db,
      { ...policy, fixableOnly: true },
      now,
    );
    expect(r.status).toBe(CheckStatus.Pass);
    expect(r.findings[0]).toMatchObject({ blocking: false, fixedIn: null });
    expect(matchVulnerabilities([pkg('pkg:npm/left-pad@1.3.0')], db, policy, now).status).toBe(
      CheckStatus.Fail,
    );
  });

  it('an allow-list entry (by id or alias) counts until it expires', () => {
    const allow = [{ id: 'CVE-2023-0001', reason: 'not reachable', expires: '2026-12-01T00:00:00Z' }];
    const live = matchVulnerabilities([pkg('pkg:pypi/django@4.2.7')], db, { ...policy, allow }, now);
    expect(live.status).toBe(CheckStatus.Pass);
    expect(live.findings[0].note).toBe('allow-listed until 2026-12-01T00:00:00Z: not reachable');
    const later = matchVulnerabilities(
      [pkg('pkg:pypi/django@4.2.7')],
      db,
      { ...policy, allow },
      new Date('2026-12-02T00:00:00Z'),
    );
    expect(later.status).toBe(CheckStatus.Fail);
    expect(later.findings[0].note).toMatch(/expired 2026-12-01/);
  });

  it('unrated advisories block unless the policy only warns', () => {
    const d = index(advisory('OSV-1', 'npm', 'x', '2.0.0', unrated));
    expect(matchVulnerabilities([pkg('pkg:npm/x@1.0.0')], d, policy, now).status).toBe(CheckStatus.Fail);
    expect(
      matchVulnerabilities([pkg('pkg:npm/x@1.0.0')], d, { ...policy, unknownSeverity: 'warn' }, now).status,
    ).toBe(CheckStatus.Pass);
  });

  it('lists every blocking finding, not only the first', () => {
    const d = index(
      advisory('A-1', 'npm', 'a', '2.0.0', critical),
      advisory('A-2', 'npm', 'a', '3.0.0', critical),
      advisory('B-1', 'Maven', 'org.x:b', '1.1', critical),
    );
    const r = matchVulnerabilities([pkg('pkg:npm/a@1.0.0'), pkg('pkg:maven/org.x/b@1.0')], d, policy, now);
    expect(r.blocking).toHaveLength(3);
    expect(r.summary).toMatch(/^3 known vulnerabilities in 2 of 2 packages; 3 blocking \(3 critical/);
  });

  it('a package that cannot be compared blocks, unless the policy only warns', () => {
    const r = matchVulnerabilities([pkg('pkg:pypi/django@latest'), pkg('pkg:npm/nover')], db, policy, now);
    expect(r.status).toBe(CheckStatus.Fail);
    expect(r.blocking).toEqual([
      expect.stringMatching(
        /^cannot be checked: pkg:pypi\/django@latest against GHSA-crit: latest is not a PyPI version/,
      ),
      expect.stringMatching(/^cannot be checked: pkg:pypi\/django@latest against GHSA-low/),
      'cannot be checked: pkg:npm/nover: the SBOM gives no version',
    ]);
    expect(
      matchVulnerabilities([pkg('pkg:pypi/django@latest')], db, { ...policy, unresolved: 'warn' }, now)
        .status,
    ).toBe(CheckStatus.Pass);
    expect(matchVulnerabilities([pkg('pkg:generic/thing@1.0')], db, policy, now).summary).toMatch(
      /1 package\(s\) of types no advisory database covers/,
    );
  });

  it('one finding per vulnerability: records that alias each other are merged under the best-rated one', () => {
    const d = index(
      advisory('PYSEC-2026-1', 'PyPI', 'flask', '2.3.3', unrated, ['GHSA-aaaa', 'CVE-2026-9']),
      advisory('GHSA-aaaa', 'PyPI', 'flask', '2.3.3', critical, ['CVE-2026-9', 'PYSEC-2026-1']),
      advisory('GHSA-bbbb', 'PyPI', 'flask', '2.3.4', low),
    );
    const r = matchVulnerabilities([pkg('pkg:pypi/flask@2.3.2')], d, policy, now);
    expect(r.findings.map((f) => [f.advisory, f.severity, [...f.aliases].sort()])).toEqual([
      ['GHSA-aaaa', 'critical', ['CVE-2026-9', 'PYSEC-2026-1']],
      ['GHSA-bbbb', 'low', []],
    ]);
    // The allow-list still matches any of the merged ids.
    const allow = [{ id: 'PYSEC-2026-1', reason: 'r', expires: '2099-01-01T00:00:00Z' }];
    expect(matchVulnerabilities([pkg('pkg:pypi/flask@2.3.2')], d, { ...policy, allow }, now).status).toBe(
      CheckStatus.Pass,
    );
  });

  it('a distribution advisory applies only to its release', () => {
    const d = index({
      ...advisory('DSA-1', 'Debian', 'openssl', '3.0.11-1~deb12u1', critical),
      release: '12',
    });
    const on12 = pkg('pkg:deb/debian/libssl3@3.0.9-1?distro=debian-12&upstream=openssl');
    const on11 = pkg('pkg:deb/debian/libssl3@3.0.9-1?distro=debian-11&upstream=openssl');
    expect(matchVulnerabilities([on12], d, policy, now).findings).toHaveLength(1);
    expect(matchVulnerabilities([on11], d, policy, now).findings).toHaveLength(0);
  });
});
