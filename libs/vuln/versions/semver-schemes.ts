import { parse, type SemVer } from 'semver';
import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

const STARTS_WITH_DIGIT = /^[0-9]/;

/**
 * OSV's Go entries write `1.2.3` while Go module versions and purls write `v1.2.3`, so one leading
 * `v` is dropped before parsing. Build metadata (Go's `+incompatible`) is ignored by semver ordering,
 * and Go pseudo-versions (`v0.0.0-20200101000000-abcdef123456`, `v1.2.4-0.2020...`) are ordinary
 * prereleases whose fixed-width timestamps sort correctly as text.
 */
const parseSemver = cachedParser((version: string): SemVer | null => {
  const bare = version.startsWith('v') ? version.slice(1) : version;
  // The semver package would also take blanks around the version and a second `v`; we do not.
  return STARTS_WITH_DIGIT.test(bare) && bare === bare.trim() ? parse(bare) : null;
});

function semverScheme(name: string): VersionScheme {
  return {
    name,
    valid: (version) => parseSemver(version) !== null,
    compare: (a, b) => {
      const left = parseSemver(a);
      const right = parseSemver(b);
      if (left === null || right === null) throw new Error(`not a semantic version: ${left ? b : a}`);
      return left.compare(right);
    },
  };
}

/** The SEMVER range type of OSV (semver 2.0 ordering, leading 'v' tolerated). */
export const SEMVER_SCHEME: VersionScheme = semverScheme('SEMVER');
export const NPM_SCHEME: VersionScheme = semverScheme('npm');
export const CRATES_IO_SCHEME: VersionScheme = semverScheme('crates.io');
export const GO_SCHEME: VersionScheme = semverScheme('Go');
