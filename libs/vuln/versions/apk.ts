import { cachedParser } from './parse-cache';
import { type VersionScheme } from './version-scheme';

/*
 * A port of apk-tools' version comparison (src/version.c, `apk_version_compare`), the ordering of
 * Alpine's secdb and OSV's Alpine ranges. Grammar: digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}.
 *
 * The token rules are those of the current apk-tools tokenizer (the rewrite that apk-tools 3 ships),
 * except that, as in apk-tools 2, a letter may be followed by more components (`6.6.2p1-r0`,
 * `0.1a.1`): Alpine's secdb and OSV carry such versions. It orders every well-formed 2.x version as
 * 2.x did but fixes two 2.x defects that apk-tools' own test data now pins down: `6.0_pre1 < 6.0` (2.x mis-read a `.0` component followed by a
 * suffix) and numbers beyond 32 bits such as `_pre20191002222144`. A `~hash` (a git commit) is
 * validated but ignored when ordering: it names a build, not a newer one. (apk-tools 3 compares two
 * hashes as text; 2.x stopped reading at the `~`, ignoring the revision after it too.)
 */

const Token = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNumber: 4,
  CommitHash: 5,
  RevisionNumber: 6,
  End: 7,
  Invalid: 8,
} as const;
type Token = (typeof Token)[keyof typeof Token];

/** Pre-release suffixes rank below SUFFIX_NONE (a plain release), post-release ones above it. */
const SUFFIX_NONE = 5;
const SUFFIX_RANKS: ReadonlyMap<string, number> = new Map([
  ['alpha', 1],
  ['beta', 2],
  ['pre', 3],
  ['rc', 4],
  ['cvs', 6],
  ['svn', 7],
  ['git', 8],
  ['hg', 9],
  ['p', 10],
]);

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
const isLowerLetter = (code: number): boolean => code >= 0x61 && code <= 0x7a;
const isHexDigit = (code: number): boolean =>
  isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);

/** token_next's state machine: walks a version token by token; `token` says what `value` holds. */
class TokenReader {
  token: Token = Token.InitialDigit;
  value = '';
  suffix = 0;
  private position = 0;

  constructor(private readonly text: string) {
    this.readDigits();
  }

  /** token_next: reads the next token, or Invalid when it may not follow the current one. */
  next(): void {
    const text = this.text;
    if (this.position >= text.length) {
      this.token = Token.End;
      return;
    }
    const c = text.charCodeAt(this.position);
    if (isLowerLetter(c)) {
      if (this.token > Token.Digit) return this.invalid();
      this.value = text[this.position];
      this.token = Token.Letter;
      this.position++;
    } else if (c === 0x2e /* . */ || isDigit(c)) {
      if (c === 0x2e) {
        if (this.token > Token.Letter) return this.invalid();
        this.position++;
      }
      // apk-tools 2 (and OSV, and Alpine's own packages such as openssh's `6.6.2p1-r0`) lets
      // numbers go on after a letter; apk-tools 3 refuses that, which would leave such advisories
      // without a verdict. The number after a letter is an ordinary component.
      if (this.token <= Token.Letter) this.token = Token.Digit;
      else if (this.token === Token.Suffix) this.token = Token.SuffixNumber;
      else return this.invalid();
      this.readDigits();
    } else if (c === 0x5f /* _ */) {
      if (this.token > Token.SuffixNumber) return this.invalid();
      this.position++;
      this.value = this.readWhile(isLowerLetter);
      this.suffix = SUFFIX_RANKS.get(this.value) ?? 0;
      if (this.suffix === 0) return this.invalid();
      this.token = Token.Suffix;
    } else if (c === 0x7e /* ~ */) {
      if (this.token >= Token.CommitHash) return this.invalid();
      this.position++;
      this.value = this.readWhile(isHexDigit);
      if (this.value.length === 0) return this.invalid();
      this.token = Token.CommitHash;
    } else if (c === 0x2d /* - */) {
      if (this.token >= Token.RevisionNumber || text[this.position + 1] !== 'r') return this.invalid();
      this.position += 2;
      this.token = Token.RevisionNumber;
      this.readDigits();
    } else {
      this.invalid();
    }
  }

  private readDigits(): void {
    this.value = this.readWhile(isDigit);
    if (this.value.length === 0) this.token = Token.Invalid;
  }

  private readWhile(accept: (code: number) => boolean): string {
    const start = this.position;
    while (this.position < this.text.length && accept(this.text.charCodeAt(this.position))) this.position++;
    return this.text.slice(start, this.position);
  }

  private invalid(): void {
    this.token = Token.Invalid;
  }
}

/** One token as ordering sees it. */
interface ApkToken {
  readonly token: Token;
  readonly value: string;
  /** For numbers: the digits without leading zeros, compared numerically. */
  readonly significant: string;
  readonly suffix: number;
}

/**
 * A version's tokens in order, ending with End or, where apk would stop reading, Invalid. Commit
 * hashes are validated by the reader but left out: they take no part in ordering.
 */
const tokenize = cachedParser((version: string): readonly ApkToken[] => {
  const tokens: ApkToken[] = [];
  const reader = new TokenReader(version);
  for (;;) {
    const { token, value, suffix } = reader;
    if (token !== Token.CommitHash)
      tokens.push({ token, value, suffix, significant: value.replace(/^0+/, '') });
    if (token >= Token.End) return tokens;
    reader.next();
  }
});

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Numeric order of digit runs of any length (apk uses 64 bits; no real version needs more). */
function compareNumbers(a: ApkToken, b: ApkToken): number {
  const x = a.significant;
  const y = b.significant;
  return x.length !== y.length ? (x.length < y.length ? -1 : 1) : compareText(x, y);
}

/** token_cmp, for two tokens of the same type. */
function compareTokens(a: ApkToken, b: ApkToken): number {
  switch (a.token) {
    case Token.Digit:
      // Like Gentoo, a component after a dot with a leading zero is a decimal fraction: 1.05 < 1.1.
      if (a.value.startsWith('0') || b.value.startsWith('0')) return compareText(a.value, b.value);
      return compareNumbers(a, b);
    case Token.InitialDigit:
    case Token.SuffixNumber:
    case Token.RevisionNumber:
      return compareNumbers(a, b);
    case Token.Suffix:
      return a.suffix === b.suffix ? 0 : a.suffix < b.suffix ? -1 : 1;
    case Token.Letter:
      return compareText(a.value, b.value);
    case Token.CommitHash: // never compared: tokenize leaves hashes out
    case Token.End:
    case Token.Invalid:
      return 0;
  }
}

export function isValidApkVersion(version: string): boolean {
  const tokens = tokenize(version);
  return tokens[tokens.length - 1].token === Token.End;
}

/** `apk version -t` as a comparator. */
export function compareApkVersions(a: string, b: string): number {
  const left = tokenize(a);
  const right = tokenize(b);
  // Both lists end with End or Invalid, where the walk stops, so indexing stays in bounds.
  let i = 0;
  while (left[i].token === right[i].token && left[i].token < Token.End) {
    const result = compareTokens(left[i], right[i]);
    if (result !== 0) return result;
    i++;
  }
  const l = left[i];
  const r = right[i];
  if (l.token === r.token) return 0;
  // Equal so far and one goes on: a pre-release suffix makes it older, anything else newer.
  if (l.token === Token.Suffix && l.suffix < SUFFIX_NONE) return -1;
  if (r.token === Token.Suffix && r.suffix < SUFFIX_NONE) return 1;
  return l.token > r.token ? -1 : 1;
}

export const ALPINE_SCHEME: VersionScheme = {
  name: 'Alpine',
  valid: isValidApkVersion,
  compare: compareApkVersions,
};
