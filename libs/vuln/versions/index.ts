import { ALPINE_SCHEME } from './apk';
import { DEBIAN_SCHEME } from './dpkg';
import { MAVEN_SCHEME } from './maven';
import { PYPI_SCHEME } from './pypi';
import { CRATES_IO_SCHEME, GO_SCHEME, NPM_SCHEME } from './semver-schemes';
import { type VersionScheme } from './version-scheme';

export { type VersionScheme } from './version-scheme';
export { SEMVER_SCHEME, NPM_SCHEME, CRATES_IO_SCHEME, GO_SCHEME } from './semver-schemes';
export { PYPI_SCHEME } from './pypi';
export { MAVEN_SCHEME, compareMavenVersions, canonicalMavenVersion } from './maven';
export { DEBIAN_SCHEME, compareDpkgVersions } from './dpkg';
export { ALPINE_SCHEME, compareApkVersions } from './apk';

/**
 * OSV ecosystem names (exact, as OSV spells them) to the ordering of their versions. Ubuntu packages
 * are versioned like Debian's, Wolfi and Chainguard packages like Alpine's.
 */
const SCHEMES_BY_ECOSYSTEM: ReadonlyMap<string, VersionScheme> = new Map([
  ['npm', NPM_SCHEME],
  ['PyPI', PYPI_SCHEME],
  ['Maven', MAVEN_SCHEME],
  ['Go', GO_SCHEME],
  ['crates.io', CRATES_IO_SCHEME],
  ['Debian', DEBIAN_SCHEME],
  ['Ubuntu', DEBIAN_SCHEME],
  ['Alpine', ALPINE_SCHEME],
  ['Wolfi', ALPINE_SCHEME],
  ['Chainguard', ALPINE_SCHEME],
]);

/**
 * The scheme for an OSV ecosystem name ('npm', 'PyPI', 'Maven', 'Go', 'crates.io', 'Debian',
 * 'Debian:12', 'Alpine', 'Alpine:v3.20', ...), or undefined when unsupported. Ecosystem suffixes
 * after ':' (a distribution release) are ignored: they select advisories, not version rules.
 */
export function schemeForEcosystem(ecosystem: string): VersionScheme | undefined {
  const colon = ecosystem.indexOf(':');
  return SCHEMES_BY_ECOSYSTEM.get(colon === -1 ? ecosystem : ecosystem.slice(0, colon));
}
