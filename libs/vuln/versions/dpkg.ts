import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

/*
 * A port of dpkg's version handling (lib/dpkg/parsehelp.c `parseversion`, lib/dpkg/version.c
 * `verrevcmp` and `dpkg_version_compare`), the ordering Debian and Ubuntu advisories are written in.
 */

interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

const MAX_EPOCH = 2 ** 31 - 1; // dpkg stores the epoch in an int
const EPOCH = /^[+-]?[0-9]+$/; // what strtol accepts once surrounding blanks are gone
const UPSTREAM_CHARS = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]*$/;
const EMBEDDED_BLANK = /[ \t]/;

const TILDE = 0x7e;
const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);

/** dpkg trims blanks (space, tab) only, not other whitespace. */
function trimBlanks(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

/**
 * Splits `[epoch:]upstream[-revision]`: the epoch ends at the first colon, the revision starts after
 * the last hyphen. Returns undefined where dpkg reports an error or a syntax warning, since either
 * means the string is not a version dpkg would install.
 */
function parseDpkgVersion(text: string): DpkgVersion | undefined {
  const version = trimBlanks(text);
  if (version.length === 0 || EMBEDDED_BLANK.test(version)) return undefined;

  let epoch = 0;
  let rest = version;
  const colon = version.indexOf(':');
  if (colon !== -1) {
    const epochText = version.slice(0, colon);
    if (!EPOCH.test(epochText)) return undefined;
    epoch = Number(epochText);
    // strtol reads "-0" as 0, which dpkg then accepts.
    if (epoch < 0 || epoch > MAX_EPOCH) return undefined;
    epoch = Math.abs(epoch);
    rest = version.slice(colon + 1);
    if (rest.length === 0) return undefined;
  }

  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? '' : rest.slice(hyphen + 1);
  if (hyphen !== -1 && revision.length === 0) return undefined;
  if (!UPSTREAM_CHARS.test(upstream) || !REVISION_CHARS.test(revision)) return undefined;
  return { epoch, upstream, revision };
}

/** dpkg's `order`: `~` before the end of a part, the end before letters, letters before the rest. */
function order(code: number): number {
  if (Number.isNaN(code) || isDigit(code)) return 0; // NaN: past the end of the string
  if (isLetter(code)) return code;
  if (code === TILDE) return -1;
  return code + 256;
}

/** dpkg's `verrevcmp`: alternating runs of non-digits (by `order`) and digits (numerically). */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    // Digit runs of any length: the longer run is larger, else the first differing digit decides.
    let firstDiff = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

const parsed = cachedParser(parseDpkgVersion);

function requireVersion(text: string): DpkgVersion {
  const version = parsed(text);
  if (version === undefined) throw new Error(`not a Debian version: ${text}`);
  return version;
}

export function isValidDpkgVersion(version: string): boolean {
  return parsed(version) !== undefined;
}

/** `dpkg --compare-versions` as a comparator: epoch, then upstream version, then revision. */
export function compareDpkgVersions(a: string, b: string): number {
  const left = requireVersion(a);
  const right = requireVersion(b);
  if (left.epoch !== right.epoch) return left.epoch < right.epoch ? -1 : 1;
  return Math.sign(
    compareParts(left.upstream, right.upstream) || compareParts(left.revision, right.revision),
  );
}

export const DEBIAN_SCHEME: VersionScheme = {
  name: 'Debian',
  valid: isValidDpkgVersion,
  compare: compareDpkgVersions,
};
