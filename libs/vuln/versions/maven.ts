import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

/*
 * A port of Apache Maven 3.8.6 `org.apache.maven.artifact.versioning.ComparableVersion`: the order
 * OSV's Maven ecosystem follows. OSV's version-order fixtures (osv-scalibr
 * semantic/generators/GenerateMavenVersions.java) are generated with maven-artifact 3.8.6, and its
 * matchers agree with them. Maven 3.9 and 4 changed the order (MNG-7559 reads `rc-1`/`rc1` as one
 * combination item, MNG-7644 nests a trailing `.X` like `-X`, MNG-6964 lets a whole sub-list decide
 * against nothing), so `3.2.0rc2 < 3.2.0-rc.1` and `7.4.3.20 < 7.4.3.20-ga20` here, as in OSV, where
 * Maven 4 would say otherwise. Advisories' ranges are judged as OSV judges them, not as a newer Maven
 * would. It is a faithful transcription rather than a re-derivation on purpose: Maven's order has
 * quirks (MNG-5568, MNG-6572) that a "cleaner" algorithm would get wrong.
 *
 * One deliberate difference: only ASCII 0-9 count as digits. Java's Character.isDigit also accepts
 * e.g. Arabic-Indic digits; later Maven releases made the same ASCII-only change.
 */

/**
 * Maven keeps numbers in int, long or BigInteger items by the length of their digits (leading zeros
 * stripped) and orders the three kinds int < long < BigInteger before looking at values, so the kind
 * is part of the order, not an implementation detail.
 */
const enum NumberWidth {
  Int = 0,
  Long = 1,
  Big = 2,
}

interface NumberItem {
  readonly kind: 'number';
  readonly width: NumberWidth;
  /** Decimal value without leading zeros ("0" for zero). */
  readonly value: string;
}

interface StringItem {
  readonly kind: 'string';
  /** Lower-cased qualifier after aliasing (`cr` → `rc`, `ga`/`final`/`release` → ``, `a1` → `alpha`). */
  readonly value: string;
  /** Maven's comparableQualifier: known qualifiers by rank, then unknown ones lexically. */
  readonly rank: string;
}

/** A `-` opens a nested list; transitions between letters and digits do too. */
interface ListItem {
  readonly kind: 'list';
  readonly items: Item[];
}

type Item = NumberItem | StringItem | ListItem;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
/** Maven 3.8's ALIASES: the release qualifiers are the empty qualifier, so `1-ga` equals `1`. */
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };
/** The rank of "no qualifier": below it a qualifier makes a version older, above it newer. */
const RELEASE_RANK = String(QUALIFIERS.indexOf(''));
const SINGLE_LETTER_QUALIFIERS: Readonly<Record<string, string>> = { a: 'alpha', b: 'beta', m: 'milestone' };
const MAX_INT_DIGITS = 9;
const MAX_LONG_DIGITS = 18;

const DOT = 0x2e;
const HYPHEN = 0x2d;
const isAsciiDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

// Java's String.compareTo on UTF-16 code units, which JavaScript's relational operators also use.
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function numberItem(digits: string): NumberItem {
  // Maven strips leading zeros unless the whole run is zeros, then sizes the item by what is left.
  const firstSignificant = digits.search(/[^0]/);
  const stripped = firstSignificant === -1 ? digits : digits.slice(firstSignificant);
  const width =
    stripped.length <= MAX_INT_DIGITS
      ? NumberWidth.Int
      : stripped.length <= MAX_LONG_DIGITS
        ? NumberWidth.Long
        : NumberWidth.Big;
  return { kind: 'number', width, value: firstSignificant === -1 ? '0' : stripped };
}

const ZERO = numberItem('0');

function stringItem(text: string, followedByDigit: boolean): StringItem {
  let value = text;
  if (followedByDigit && value.length === 1) value = SINGLE_LETTER_QUALIFIERS[value] ?? value;
  value = ALIASES[value] ?? value;
  const known = QUALIFIERS.indexOf(value);
  const rank = known === -1 ? `${QUALIFIERS.length}-${value}` : String(known);
  return { kind: 'string', value, rank };
}

function parseItem(isDigit: boolean, text: string): Item {
  return isDigit ? numberItem(text) : stringItem(text, false);
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'number':
      return item.value === '0';
    case 'string':
      return item.value === '';
    case 'list':
      return item.items.length === 0;
  }
}

/**
 * Maven 3.8's ListItem.normalize: drops trailing null items (0, "", empty lists), looking past
 * sub-lists but stopping at the first non-null number or qualifier.
 */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (isNull(item)) items.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

function parseMavenVersion(version: string): ListItem {
  const text = version.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  const opened: ListItem[] = [root];
  let list = root;
  const openList = (): void => {
    const nested: ListItem = { kind: 'list', items: [] };
    list.items.push(nested);
    opened.push(nested);
    list = nested;
  };

  let isDigit = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT || c === HYPHEN) {
      list.items.push(i === start ? ZERO : parseItem(isDigit, text.slice(start, i)));
      start = i + 1;
      if (c === HYPHEN) openList();
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > start) {
        list.items.push(stringItem(text.slice(start, i), true));
        start = i;
        openList();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, text.slice(start, i)));
        start = i;
        openList();
      }
      isDigit = false;
    }
  }
  if (text.length > start) list.items.push(parseItem(isDigit, text.slice(start)));
  // Innermost lists first, so an emptied sub-list is itself dropped from its parent.
  for (let i = opened.length - 1; i >= 0; i--) normalize(opened[i]);
  return root;
}

function compareNumbers(a: NumberItem, b: NumberItem): number {
  if (a.width !== b.width) return a.width < b.width ? -1 : 1;
  if (a.value.length !== b.value.length) return a.value.length < b.value.length ? -1 : 1;
  return compareText(a.value, b.value);
}

/** Item.compareTo; `null` stands for "the other version has no item here". */
function compareItem(a: Item, b: Item | null): number {
  switch (a.kind) {
    case 'number':
      if (b === null) return a.value === '0' ? 0 : 1;
      // A number outranks any qualifier or sub-list in the same position: 1.1 > 1-sp, 1.1 > 1-1.
      return b.kind === 'number' ? compareNumbers(a, b) : 1;
    case 'string':
      if (b === null) return compareText(a.rank, RELEASE_RANK);
      return b.kind === 'string' ? compareText(a.rank, b.rank) : -1;
    case 'list':
      if (b === null) {
        // Maven 3.8: only the first item decides against nothing (Maven 3.9 looks at all, MNG-6964).
        const first = a.items[0];
        return first === undefined ? 0 : compareItem(first, null);
      }
      switch (b.kind) {
        case 'number':
          return -1;
        case 'string':
          return 1;
        case 'list':
          return compareLists(a, b);
      }
  }
}

function compareLists(a: ListItem, b: ListItem): number {
  const length = Math.max(a.items.length, b.items.length);
  for (let i = 0; i < length; i++) {
    const left = a.items[i];
    const right = b.items[i];
    let result: number;
    if (left === undefined) result = right === undefined ? 0 : 0 - compareItem(right, null);
    else result = compareItem(left, right ?? null);
    if (result !== 0) return result;
  }
  return 0;
}

function canonical(item: Item): string {
  switch (item.kind) {
    case 'number':
    case 'string':
      return item.value;
    case 'list': {
      let text = '';
      for (const child of item.items) {
        if (text.length > 0) text += child.kind === 'list' ? '-' : '.';
        text += canonical(child);
      }
      return text;
    }
  }
}

const parsed = cachedParser(parseMavenVersion);

/** Maven's order: <0, 0, >0. Any string is a Maven version; see isValidMavenVersion for our limits. */
export function compareMavenVersions(a: string, b: string): number {
  return compareLists(parsed(a), parsed(b));
}

/** ComparableVersion.getCanonical(): the normalised item list, e.g. `1.0.0-RC1` → `1-rc1`. */
export function canonicalMavenVersion(version: string): string {
  return canonical(parsed(version));
}

/**
 * Maven orders any string, but an empty one or one with blanks or control characters is a data
 * error in an SBOM or advisory rather than a version.
 */
export function isValidMavenVersion(version: string): boolean {
  return /^[^\s\p{Cc}]+$/u.test(version);
}

export const MAVEN_SCHEME: VersionScheme = {
  name: 'Maven',
  valid: isValidMavenVersion,
  compare: compareMavenVersions,
};
