import { parse } from '@renovatebot/pep440';
import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

/*
 * PEP 440 ordering (epochs `1!0.1`, pre/post/dev releases, local versions) from @renovatebot/pep440.
 * Its compare() parses both strings with a large regular expression on every call; here the parse
 * is done once per string and the library's sort key (calculateKey and pyCompare in its
 * lib/operator.js, themselves packaging's _cmpkey) is rebuilt from the cached parse.
 * pypi.spec.ts checks this against the library's own compare() over every pair of a version list.
 */

/** What parse() returns at run time; its typings describe pre, post, dev and local loosely. */
interface ParsedVersion {
  readonly epoch: number;
  readonly release: readonly number[];
  readonly pre: readonly [string, number] | null;
  readonly post: readonly [string, number] | null;
  readonly dev: readonly [string, number] | null;
  readonly local: readonly (string | number)[] | null;
}

type SortKey = number | string | readonly SortKey[];

function sortKey(version: ParsedVersion): SortKey {
  // Trailing zeros do not count: 1.0 == 1.0.0.
  let releaseLength = version.release.length;
  while (releaseLength > 0 && version.release[releaseLength - 1] === 0) releaseLength--;
  const release = version.release.slice(0, releaseLength);
  // 1.0.dev0 sorts before 1.0a0; a release without a pre-release sorts after those with one.
  const pre = version.pre ?? (version.post === null && version.dev !== null ? -Infinity : Infinity);
  const post = version.post ?? -Infinity;
  const dev = version.dev ?? Infinity;
  // Local segments: alphanumeric parts before numeric ones, numeric ones numerically.
  const local =
    version.local?.map((part): SortKey =>
      Number.isNaN(Number(part)) ? [-Infinity, part] : [Number(part), ''],
    ) ?? -Infinity;
  return [version.epoch, release, pre, post, dev, local];
}

/** Python's ordering of the key's nested tuples, as the library's pyCompare implements it. */
function compareKeys(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (Array.isArray(a) || Array.isArray(b)) {
    const left: readonly SortKey[] = Array.isArray(a) ? a : [a];
    const right: readonly SortKey[] = Array.isArray(b) ? b : [b];
    const length = Math.min(left.length, right.length);
    for (let i = 0; i < length; i++) {
      const result = compareKeys(left[i], right[i]);
      if (result !== 0) return result;
    }
    return Math.sign(left.length - right.length);
  }
  if (a === -Infinity || b === Infinity) return -1;
  if (a === Infinity || b === -Infinity) return 1;
  return a < b ? -1 : 1;
}

/*
 * Legacy versions. OSV still orders PyPI versions that PEP 440 refuses (`2.0.1rc2-git`, `1.0-final`)
 * as packaging < 22 did (and packaging_legacy, which osv.dev uses, still does): as a LegacyVersion,
 * with epoch -1 so every one sorts before every PEP 440 version, then by the key below
 * (packaging's _legacy_cmpkey). Without this such advisories gave "unknown".
 */
const LEGACY_COMPONENT = /(\d+|[a-z]+|\.|-)/;
const LEGACY_REPLACEMENTS: Readonly<Record<string, string>> = {
  pre: 'c',
  preview: 'c',
  '-': 'final-',
  rc: 'c',
  dev: '@',
};
/** What a legacy version must look like to be taken for one rather than for a data error. */
const LEGACY_SHAPE = /^[0-9][^\s\p{Cc}]*$/u;

/** _parse_version_parts: numbers zero-padded to 8 digits, words prefixed with `*`, then `*final`. */
function* legacyParts(version: string): Generator<string> {
  for (const piece of version.toLowerCase().split(LEGACY_COMPONENT)) {
    const part = LEGACY_REPLACEMENTS[piece] ?? piece;
    if (part === '' || part === '.') continue;
    yield /^[0-9]/.test(part) ? part.padStart(8, '0') : `*${part}`;
  }
  // So that alpha, beta and candidate sort before final.
  yield '*final';
}

/** _legacy_cmpkey without its epoch (-1 for every legacy version). */
function legacyKey(version: string): readonly string[] {
  const parts: string[] = [];
  for (const part of legacyParts(version)) {
    if (part.startsWith('*')) {
      // A "-" before a pre-release tag does not count, nor do trailing zeros of a numeric series.
      if (part < '*final') while (parts[parts.length - 1] === '*final-') parts.pop();
      while (parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts;
}

type VersionKey = { readonly pep440: SortKey } | { readonly legacy: readonly string[] };

const keyOf = cachedParser((version: string): VersionKey | null => {
  const parsed = parse(version) as unknown as ParsedVersion | null;
  if (parsed !== null) return { pep440: sortKey(parsed) };
  return LEGACY_SHAPE.test(version) ? { legacy: legacyKey(version) } : null;
});

function compareLegacy(a: readonly string[], b: readonly string[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return Math.sign(a.length - b.length);
}

function requireKey(version: string): VersionKey {
  const key = keyOf(version);
  if (key === null) throw new Error(`not a PyPI version: ${version}`);
  return key;
}

/** PEP 440 order; legacy versions (see above) before all PEP 440 ones, as OSV orders them. */
export function comparePep440Versions(a: string, b: string): number {
  const left = requireKey(a);
  const right = requireKey(b);
  if ('pep440' in left) return 'pep440' in right ? compareKeys(left.pep440, right.pep440) : 1;
  return 'legacy' in right ? compareLegacy(left.legacy, right.legacy) : -1;
}

/** true for a PEP 440 version, false for a legacy one (or none). */
export function isPep440Version(version: string): boolean {
  const key = keyOf(version);
  return key !== null && 'pep440' in key;
}

export const PYPI_SCHEME: VersionScheme = {
  name: 'PyPI',
  valid: (version) => keyOf(version) !== null,
  compare: comparePep440Versions,
};
