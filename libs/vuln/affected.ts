// Whether one installed version is inside an OSV `affected` entry, by the rules of the OSV
// schema's evaluation: listed versions match exactly; each SEMVER or ECOSYSTEM range is walked in
// version order, `introduced` opening it and `fixed` / `last_affected` / `limit` closing it.
import { type OsvAffected, type OsvEvent, type OsvRange } from './osv';
import { schemeForEcosystem, SEMVER_SCHEME, type VersionScheme } from './versions';

export type AffectedVerdict =
  | { affected: false }
  /** `fixedIn`: the lowest fixed version above the installed one, in the range that matched. */
  | { affected: true; fixedIn: string | null }
  /** The versions could not be compared (not valid in the ecosystem's scheme). */
  | { affected: 'unknown'; why: string };

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';

interface Event {
  kind: Kind;
  version: string;
}

function eventOf(e: OsvEvent): Event {
  const [kind, version] = Object.entries(e)[0] as [Kind, string];
  return { kind, version };
}

/** `introduced: 0` means "from the first version", below anything the scheme can order. */
const isZero = (e: Event) => e.kind === 'introduced' && e.version === '0';

/** `limit: "*"` means no limit at all (OSV's "infinity"). */
const NO_LIMIT = '*';

function rangeVerdict(range: OsvRange, scheme: VersionScheme, version: string): AffectedVerdict {
  const events = range.events.map(eventOf);
  const bad = events.find(
    (e) => !isZero(e) && !(e.kind === 'limit' && e.version === NO_LIMIT) && !scheme.valid(e.version),
  );
  if (bad)
    return {
      affected: 'unknown',
      why: `the advisory's version ${bad.version} is not a ${scheme.name} version`,
    };
  // Limits gate the range as a whole (OSV's BeforeLimits): the version must be below one of them.
  const limits = events.filter((e) => e.kind === 'limit');
  if (limits.length && !limits.some((l) => l.version === NO_LIMIT || scheme.compare(version, l.version) < 0))
    return { affected: false };
  const cmp = (a: Event, b: Event): number => {
    if (isZero(a)) return isZero(b) ? 0 : -1;
    if (isZero(b)) return 1;
    return scheme.compare(a.version, b.version);
  };
  const sorted = events.filter((e) => e.kind !== 'limit').sort(cmp);
  let affected = false;
  for (const e of sorted) {
    const at = isZero(e) ? 1 : scheme.compare(version, e.version);
    if (e.kind === 'introduced' && at >= 0) affected = true;
    else if (e.kind === 'fixed' && at >= 0) affected = false;
    else if (e.kind === 'last_affected' && at > 0) affected = false;
  }
  if (!affected) return { affected: false };
  const fixed = sorted.find((e) => e.kind === 'fixed' && scheme.compare(e.version, version) > 0);
  return { affected: true, fixedIn: fixed?.version ?? null };
}

/** The scheme a range is ordered by; undefined when Airlock cannot order it (GIT, unknown ecosystems). */
function schemeOf(range: OsvRange, ecosystem: string): VersionScheme | undefined {
  if (range.type === 'SEMVER') return SEMVER_SCHEME;
  if (range.type === 'ECOSYSTEM') return schemeForEcosystem(ecosystem);
  return undefined;
}

export function affectedVerdict(entry: OsvAffected, version: string): AffectedVerdict {
  const ecosystem = entry.package?.ecosystem ?? '';
  if (entry.versions?.includes(version)) {
    const fixes = (entry.ranges ?? []).map((r) => {
      const scheme = schemeOf(r, ecosystem);
      return scheme?.valid(version) ? rangeVerdict(r, scheme, version) : null;
    });
    const fixedIn = fixes.map((f) => (f?.affected === true ? f.fixedIn : null)).find((f) => f) ?? null;
    return { affected: true, fixedIn };
  }
  let unknown: AffectedVerdict | null = null;
  for (const range of entry.ranges ?? []) {
    const scheme = schemeOf(range, ecosystem);
    if (!scheme) continue;
    if (!scheme.valid(version)) {
      unknown = { affected: 'unknown', why: `${version} is not a ${scheme.name} version` };
      continue;
    }
    const v = rangeVerdict(range, scheme, version);
    if (v.affected === true) return v;
    if (v.affected === 'unknown') unknown = v;
  }
  return unknown ?? { affected: false };
}
