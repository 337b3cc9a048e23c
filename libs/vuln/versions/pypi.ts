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

const keyOf = cachedParser((version: string): SortKey | null => {
  const parsed = parse(version) as unknown as ParsedVersion | null;
  return parsed === null ? null : sortKey(parsed);
});

function requireKey(version: string): SortKey {
  const key = keyOf(version);
  if (key === null) throw new Error(`not a PEP 440 version: ${version}`);
  return key;
}

export function comparePep440Versions(a: string, b: string): number {
  return compareKeys(requireKey(a), requireKey(b));
}

export const PYPI_SCHEME: VersionScheme = {
  name: 'PyPI',
  valid: (version) => keyOf(version) !== null,
  compare: comparePep440Versions,
};
