import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

/*
 * A port of Apache Maven 3.9.x `org.apache.maven.artifact.versioning.ComparableVersion`, the ordering
 * Maven itself (and OSV's Maven ECOSYSTEM ranges) use. It is a faithful transcription rather than a
 * re-derivation on purpose: Maven's order has quirks (MNG-5568, MNG-6964, MNG-7644, MNG-7714) that a
 * "cleaner" algorithm would get wrong, and advisories are written against Maven's actual behaviour.
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
  /** Lower-cased qualifier after aliasing (`cr` → `rc`, `a1` → `alpha`). */
  readonly value: string;
  /** Maven's comparableQualifier: known qualifiers by rank, then unknown ones lexically. */
  readonly rank: string;
}

/** A qualifier directly followed by a number, e.g. `rc1` or `sp-2` (MNG-7559). */
interface CombinationItem {
  readonly kind: 'combination';
  readonly text: StringItem;
  readonly number: NumberItem;
}

/** A `-` opens a nested list; transitions between letters and digits do too. */
interface ListItem {
  readonly kind: 'list';
  readonly items: Item[];
}

type Item = NumberItem | StringItem | CombinationItem | ListItem;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = new Set(['ga', 'final', 'release']);
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
  if (value === 'cr') value = 'rc';
  const known = QUALIFIERS.indexOf(value);
  const rank = RELEASE_QUALIFIERS.has(value)
    ? RELEASE_RANK
    : known === -1
      ? `${QUALIFIERS.length}-${value}`
      : String(known);
  return { kind: 'string', value, rank };
}

function combinationItem(text: string): CombinationItem {
  let digitsAt = 0;
  while (digitsAt < text.length && !isAsciiDigit(text.charCodeAt(digitsAt))) digitsAt++;
  return {
    kind: 'combination',
    text: stringItem(text.slice(0, digitsAt), true),
    number: numberItem(text.slice(digitsAt)),
  };
}

function parseItem(isCombination: boolean, isDigit: boolean, text: string): Item {
  if (isCombination) return combinationItem(text.replaceAll('-', ''));
  return isDigit ? numberItem(text) : stringItem(text, false);
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'number':
      return item.value === '0';
    case 'string':
      return item.value === '';
    case 'combination':
      return false;
    case 'list':
      return item.items.length === 0;
  }
}

/** Drops null items (0, "", empty lists) that do not change the order, as ListItem.normalize does. */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    if (!isNull(items[i])) continue;
    const next = items[i + 1];
    if (next === undefined || next.kind === 'string') {
      items.splice(i, 1);
    } else if (next.kind === 'list') {
      const first = next.items[0];
      if (first !== undefined && (first.kind === 'combination' || first.kind === 'string'))
        items.splice(i, 1);
    }
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
  let isCombination = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      list.items.push(i === start ? ZERO : parseItem(isCombination, isDigit, text.slice(start, i)));
      isCombination = false;
      start = i + 1;
    } else if (c === HYPHEN) {
      if (i === start) {
        list.items.push(ZERO);
      } else {
        // `X-1` is read as `X1`: the hyphen joins a qualifier to its number.
        if (!isDigit && i !== text.length - 1 && isAsciiDigit(text.charCodeAt(i + 1))) {
          isCombination = true;
          continue;
        }
        list.items.push(parseItem(isCombination, isDigit, text.slice(start, i)));
      }
      start = i + 1;
      if (list.items.length > 0) openList();
      isCombination = false;
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > start) {
        isCombination = true;
        if (list.items.length > 0) openList();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(isCombination, true, text.slice(start, i)));
        start = i;
        openList();
        isCombination = false;
      }
      isDigit = false;
    }
  }
  if (text.length > start) {
    // MNG-7644: a trailing `.X` is nested like `-X`, so 1.0.0.RC1 < 1.0.0-RC2.
    if (!isDigit && list.items.length > 0) openList();
    list.items.push(parseItem(isCombination, isDigit, text.slice(start)));
  }
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
      switch (b.kind) {
        case 'number':
        case 'list':
          return -1;
        case 'string':
          return compareText(a.rank, b.rank);
        case 'combination': {
          const byText = compareText(a.rank, b.text.rank);
          return byText === 0 ? -1 : byText;
        }
      }
    case 'combination':
      if (b === null) return compareItem(a.text, null);
      switch (b.kind) {
        case 'number':
        case 'list':
          return -1;
        case 'string': {
          const byText = compareText(a.text.rank, b.rank);
          return byText === 0 ? 1 : byText; // X1 > X
        }
        case 'combination': {
          const byText = compareText(a.text.rank, b.text.rank);
          return byText === 0 ? compareNumbers(a.number, b.number) : byText;
        }
      }
    case 'list':
      if (b === null) {
        // MNG-6964: the whole list decides against nothing, not only its first item.
        for (const item of a.items) {
          const result = compareItem(item, null);
          if (result !== 0) return result;
        }
        return 0;
      }
      switch (b.kind) {
        case 'number':
          return -1;
        case 'string':
        case 'combination':
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
    case 'combination':
      return item.text.value + item.number.value;
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
