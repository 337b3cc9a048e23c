import { PackageURL } from 'packageurl-js';

/**
 * Where a package's advisories live: an OSV ecosystem (`npm`, `PyPI`, `Maven`, `Go`, `crates.io`,
 * `Debian`, `Alpine`), the name as that ecosystem's advisories spell it, and for distributions
 * the release (`12`, `v3.20`), since their advisories are per release.
 */
export interface PackageIdentity {
  ecosystem: string;
  name: string;
  release: string;
}

/** purl types and the OSV ecosystem that publishes advisories for them. */
const ECOSYSTEM_OF_PURL: Record<string, string> = {
  npm: 'npm',
  pypi: 'PyPI',
  maven: 'Maven',
  golang: 'Go',
  cargo: 'crates.io',
};

/**
 * Names compared the way each ecosystem compares them: PyPI per PEP 503 (case, `-`, `_` and `.`
 * runs are one), crates.io and npm case-insensitively; the others exactly.
 */
export function normalisePackageName(ecosystem: string, name: string): string {
  switch (ecosystem) {
    case 'PyPI':
      return name.toLowerCase().replace(/[-_.]+/g, '-');
    case 'npm':
    case 'crates.io':
      return name.toLowerCase();
    default:
      return name;
  }
}

/** `Debian:12` → { Debian, 12 }; `Alpine:v3.20` → { Alpine, v3.20 }; `npm` → { npm, '' }. */
export function splitEcosystem(ecosystem: string): { ecosystem: string; release: string } {
  const i = ecosystem.indexOf(':');
  return i === -1
    ? { ecosystem, release: '' }
    : { ecosystem: ecosystem.slice(0, i), release: ecosystem.slice(i + 1) };
}

/**
 * Distributions by purl type and namespace: their advisories are separate OSV ecosystems, and
 * which one applies is the distribution's, not the package format's.
 */
const DISTRIBUTIONS: Record<string, Record<string, string>> = {
  deb: { debian: 'Debian', ubuntu: 'Ubuntu' },
  apk: { alpine: 'Alpine', wolfi: 'Wolfi', chainguard: 'Chainguard' },
};

/**
 * Release from a purl's `distro` qualifier, in OSV's spelling: debian-12.4 → 12,
 * ubuntu-22.04 → 22.04, alpine-3.20.1 → v3.20. Rolling distributions (Wolfi) have none.
 */
function releaseOf(ecosystem: string, distro: string | undefined): string {
  if (!distro) return '';
  const m = /^[a-z]+-?([0-9][0-9.]*)/i.exec(distro);
  if (!m) return '';
  const parts = m[1].split('.');
  if (ecosystem === 'Alpine') return `v${parts.slice(0, 2).join('.')}`;
  if (ecosystem === 'Ubuntu') return parts.slice(0, 2).join('.');
  if (ecosystem === 'Debian') return parts[0];
  return '';
}

/**
 * Whether advisories for `advisoryRelease` apply to a package of `release`. Ubuntu's OSV
 * ecosystems carry more than the version (`22.04:LTS`, `Pro:18.04:LTS`), so the version is
 * looked for among their parts. Either side without a release applies to every release.
 */
export function releaseApplies(release: string, advisoryRelease: string): boolean {
  if (!release || !advisoryRelease) return true;
  return release === advisoryRelease || advisoryRelease.split(':').includes(release);
}

export interface ParsedPurl {
  identity: PackageIdentity | null;
  version: string | null;
}

/**
 * The advisory identity of a purl, or null identity for types no ecosystem covers here.
 * Throws on a malformed purl. Debian and Alpine advisories name source packages: a binary
 * package's `upstream` qualifier (`openssl`, or `openssl@3.0.11-1`) names its source.
 */
export function identityOfPurl(purl: string): ParsedPurl {
  const p = PackageURL.fromString(purl);
  const distributions = DISTRIBUTIONS[p.type];
  const ecosystem = distributions
    ? // No namespace: the format's home distribution (purls from older tools leave it out).
      distributions[(p.namespace ?? Object.keys(distributions)[0]).toLowerCase()]
    : ECOSYSTEM_OF_PURL[p.type];
  const version = p.version ?? null;
  if (!ecosystem) return { identity: null, version };
  const qualifiers = (p.qualifiers ?? {}) as Record<string, string | undefined>;
  let name: string;
  switch (p.type) {
    case 'maven':
      name = `${p.namespace ?? ''}:${p.name}`;
      break;
    case 'npm':
    case 'golang':
      name = p.namespace ? `${p.namespace}/${p.name}` : p.name;
      break;
    case 'deb':
    case 'apk': {
      // Distribution advisories name source packages (Alpine's origin); syft records it here.
      const upstream = qualifiers.upstream?.split(/[@ ]/)[0];
      name = upstream || p.name;
      break;
    }
    default:
      name = p.name;
  }
  return {
    identity: {
      ecosystem,
      name: normalisePackageName(ecosystem, name),
      release: releaseOf(ecosystem, qualifiers.distro),
    },
    version,
  };
}
