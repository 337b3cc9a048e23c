// Matches an SBOM's packages against the advisories stored for them and applies the policy's
// vulnerabilities section: severity ceiling, fixable-only, and the allow-list with expiries.
import { CheckStatus, exceptionApplies, severityRank, type VulnerabilitiesScanSection } from '../domain';
import { releaseApplies, type SbomPackage } from '../sbom';
import { affectedVerdict } from './affected';
import { type OsvAffected } from './osv';
import { type AdvisorySeverity } from './severity';

/** One stored advisory as it concerns one package name in one ecosystem. */
export interface AdvisoryCandidate {
  id: string;
  aliases: string[];
  summary: string;
  severity: AdvisorySeverity;
  ecosystem: string;
  /** The distribution release the entries are for (`12`), '' when not release-specific. */
  release: string;
  name: string;
  affected: OsvAffected[];
}

export const candidateKey = (ecosystem: string, name: string): string => `${ecosystem}\u0000${name}`;

/** The (ecosystem, name) pairs whose advisories a match needs, each once. */
export function advisoryKeys(packages: readonly SbomPackage[]): Array<{ ecosystem: string; name: string }> {
  const keys = new Map<string, { ecosystem: string; name: string }>();
  for (const p of packages)
    if (p.identity) keys.set(candidateKey(p.identity.ecosystem, p.identity.name), p.identity);
  return [...keys.values()];
}

export interface VulnerabilityFinding {
  advisory: string;
  aliases: string[];
  summary: string;
  /** The package URL from the SBOM (or its name when it has none). */
  package: string;
  ecosystem: string;
  name: string;
  version: string;
  severity: AdvisorySeverity['severity'];
  score: number | null;
  vector: string | null;
  fixedIn: string | null;
  fix: string;
  blocking: boolean;
  /** Why a finding does not block (below the ceiling, allow-listed, not fixable). */
  note?: string;
}

export interface VulnerabilityReport {
  status: CheckStatus;
  summary: string;
  findings: VulnerabilityFinding[];
  blocking: string[];
  /** Packages whose version could not be compared with an advisory's ranges. */
  unresolved: string[];
}

type Finding = Omit<VulnerabilityFinding, 'blocking' | 'note'>;

const RATING_ORDER = ['unknown', 'none', 'low', 'medium', 'high', 'critical'];

/**
 * One finding per vulnerability and package: databases publish the same issue under several ids
 * (a GHSA, a PYSEC and a CVE that alias each other). The best-rated record speaks for the group;
 * a fixed version from any of them is kept when it has none.
 */
function mergeAliases(findings: Finding[]): Finding[] {
  const merged: Finding[] = [];
  for (const f of findings) {
    const names = new Set([f.advisory, ...f.aliases]);
    const twin = merged.find(
      (m) => m.package === f.package && [m.advisory, ...m.aliases].some((n) => names.has(n)),
    );
    if (!twin) {
      merged.push({ ...f, aliases: [...f.aliases] });
      continue;
    }
    const better =
      RATING_ORDER.indexOf(f.severity) > RATING_ORDER.indexOf(twin.severity) ||
      (f.severity === twin.severity && (f.score ?? -1) > (twin.score ?? -1));
    const [lead, other] = better ? [f, { ...twin }] : [{ ...twin }, f];
    const ids = new Set([lead.advisory, ...lead.aliases, other.advisory, ...other.aliases]);
    ids.delete(lead.advisory);
    const fixFrom = lead.fixedIn || !other.fixedIn ? lead : other;
    Object.assign(twin, lead, { aliases: [...ids], fixedIn: fixFrom.fixedIn, fix: fixFrom.fix });
  }
  return merged;
}

function blockingDecision(
  f: Finding,
  policy: VulnerabilitiesScanSection,
  now: Date,
): { blocking: boolean; note?: string } {
  const ids = new Set([f.advisory, ...f.aliases]);
  const entries = (policy.allow ?? []).filter((a) => ids.has(a.id));
  const live = entries.find((a) => exceptionApplies(a, now));
  if (live) return { blocking: false, note: `allow-listed until ${live.expires}: ${live.reason}` };
  const expired = entries[0] ? `; its allow-list entry expired ${entries[0].expires}` : '';
  if (policy.fixableOnly && !f.fixedIn)
    return {
      blocking: false,
      note: `no fixed version yet; the policy counts only fixable findings${expired}`,
    };
  if (f.severity === 'unknown') {
    return (policy.unknownSeverity ?? 'fail') === 'fail'
      ? { blocking: true, note: `no severity published; the policy blocks unrated advisories${expired}` }
      : { blocking: false, note: 'no severity published; the policy only warns about unrated advisories' };
  }
  if (severityRank(f.severity) > severityRank(policy.maxSeverity))
    return { blocking: true, ...(expired ? { note: expired.slice(2) } : {}) };
  return { blocking: false, note: `${f.severity}, within the ceiling (${policy.maxSeverity})` };
}

/**
 * The name to upgrade: Go modules and Maven artifacts by their full coordinates (`net` alone
 * says little); distribution packages by the installed binary package, whose version it is.
 */
function shownName(p: SbomPackage): string {
  return p.identity && (p.identity.ecosystem === 'Go' || p.identity.ecosystem === 'Maven')
    ? p.identity.name
    : p.name;
}

const describe = (f: VulnerabilityFinding): string => {
  const aka = f.aliases.length ? ` (${f.aliases.slice(0, 3).join(', ')})` : '';
  const rated = f.score !== null ? `${f.severity} ${f.score}` : f.severity;
  return `${f.advisory}${aka} ${rated} in ${f.package}: ${f.fix}`;
};

export function matchVulnerabilities(
  packages: readonly SbomPackage[],
  candidates: ReadonlyMap<string, readonly AdvisoryCandidate[]>,
  policy: VulnerabilitiesScanSection,
  now: Date,
): VulnerabilityReport {
  const found: Finding[] = [];
  const findings: VulnerabilityFinding[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  let uncovered = 0;
  for (const p of packages) {
    if (!p.identity) {
      uncovered += 1; // a purl type no advisory database here covers (generic, oci, …)
      continue;
    }
    if (!p.version) {
      unresolved.push(`${p.purl ?? p.name}: the SBOM gives no version`);
      continue;
    }
    const { ecosystem, name, release } = p.identity;
    for (const c of candidates.get(candidateKey(ecosystem, name)) ?? []) {
      if (!releaseApplies(release, c.release)) continue;
      const where = p.purl ?? `${name}@${p.version}`;
      const key = `${c.id}\u0000${where}`;
      if (seen.has(key)) continue;
      for (const entry of c.affected) {
        const v = affectedVerdict(entry, p.version);
        if (v.affected === 'unknown') {
          unresolved.push(`${where} against ${c.id}: ${v.why}`);
          continue;
        }
        if (!v.affected) continue;
        seen.add(key);
        const base = {
          advisory: c.id,
          aliases: c.aliases,
          summary: c.summary,
          package: where,
          ecosystem,
          name: p.name,
          version: p.version,
          severity: c.severity.severity,
          score: c.severity.score,
          vector: c.severity.vector,
          fixedIn: v.fixedIn,
          fix: v.fixedIn
            ? `upgrade ${shownName(p)} to ${v.fixedIn} or later`
            : `no fixed version is published: remove ${shownName(p)} or allow-list ${c.id} with a reason`,
        };
        found.push(base);
        break;
      }
    }
  }
  for (const f of mergeAliases(found)) findings.push({ ...f, ...blockingDecision(f, policy, now) });
  const blockingFindings = findings.filter((f) => f.blocking);
  const bySeverity = ['critical', 'high', 'medium', 'low', 'none', 'unknown']
    .map((s) => [s, blockingFindings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const affectedPackages = new Set(findings.map((f) => f.package)).size;
  const parts = [
    `${findings.length} known vulnerabilit${findings.length === 1 ? 'y' : 'ies'} in ${affectedPackages} of ${packages.length} packages`,
    blockingFindings.length
      ? `${blockingFindings.length} blocking (${bySeverity.join(', ')}; ceiling ${policy.maxSeverity})`
      : `none blocking (ceiling ${policy.maxSeverity})`,
  ];
  // Silence about a package that could not be compared is not a pass, unless the policy says so.
  const unresolvedBlocks = unresolved.length > 0 && (policy.unresolved ?? 'fail') === 'fail';
  if (unresolved.length)
    parts.push(
      `${unresolved.length} package(s) could not be checked${unresolvedBlocks ? ' (blocking)' : ''}`,
    );
  if (uncovered) parts.push(`${uncovered} package(s) of types no advisory database covers`);
  return {
    status: blockingFindings.length || unresolvedBlocks ? CheckStatus.Fail : CheckStatus.Pass,
    summary: parts.join('; '),
    findings,
    blocking: [
      ...blockingFindings.map(describe),
      ...(unresolvedBlocks ? unresolved.map((u) => `cannot be checked: ${u}`) : []),
    ],
    unresolved,
  };
}
