// Runs one compiled rule (secret-rule.ts) on a file, near its keywords only: RE2 in JavaScript
// reads a few MB/s with `(?i)`, and a rule's match is where its keyword is (a token starts with
// it, a name holds it), while a minified file can be a megabyte on one line. The keywords'
// offsets come from the pre-filter's single pass over the file's bytes (secret-prefilter.ts), or,
// for the reference scan and tests, from a plain search (keywordOccurrences); either way the rule
// reads the same windows, so the scan finds the same with and without the pre-filter. Only the
// windows are decoded, never the whole file (unless a rule has no keywords).
//
// Windows are measured in bytes of the file: WINDOW_BEFORE before a keyword to WINDOW_AFTER after
// it, which in ASCII text (every match of the rules is ASCII) are as many characters.
import { type RE2JS } from 're2js';
import { failsTokenChecksum, isPlaceholder } from './secret-placeholders';
import {
  type CompiledAllowlist,
  type CompiledSecretRule,
  type RuleMatch,
  shannonEntropy,
} from './secret-rule';
import { headMatches } from './token-head';

/** Bytes of the file a rule reads before and after each of its keywords. */
export const WINDOW_BEFORE = 256;
export const WINDOW_AFTER = 1100;

const NEWLINE = 0x0a;

/** A file as the rules read it. */
export interface RuleFile {
  readonly bytes: Buffer;
  /** The whole text, decoded once and shared (the rules without keywords read it). */
  text(): string;
  /** The 1-based line of a byte offset. */
  lineAt(offset: number): number;
  /**
   * The bytes read as Latin-1, as they are (`exact`) or with ASCII letters in lower case: what
   * keywordOccurrences searches, read once for all the rules of a file.
   */
  latin1(folded: boolean): string;
}

/** A RuleFile over `bytes`; `text`, when given, decodes them (the scan shares its decoding). */
export function ruleFile(content: Buffer | string, text?: () => string): RuleFile {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let decoded: string | undefined;
  let exact: string | undefined;
  let lower: string | undefined;
  // Lines are counted forward from the last offset asked for: a rule's matches come in order.
  let countedTo = 0;
  let line = 1;
  return {
    bytes,
    text: text ?? (() => (decoded ??= bytes.toString('utf8'))),
    lineAt(offset: number): number {
      if (offset < countedTo) {
        countedTo = 0;
        line = 1;
      }
      for (
        let i = bytes.indexOf(NEWLINE, countedTo);
        i !== -1 && i < offset;
        i = bytes.indexOf(NEWLINE, i + 1)
      )
        line += 1;
      countedTo = offset;
      return line;
    },
    latin1(folded: boolean): string {
      exact ??= bytes.toString('latin1');
      return folded ? (lower ??= exact.replace(/[A-Z]+/g, (s) => s.toLowerCase())) : exact;
    },
  };
}

/**
 * `[start, end)` byte offsets (flat pairs) of every occurrence of the rule's keywords in `bytes`,
 * overlapping ones included, found by a plain search: what the pre-filter's automaton finds in one
 * pass for all rules at once. Keywords are ASCII, so reading the bytes as Latin-1 finds them where
 * they are in the UTF-8 text, and only ASCII letters fold.
 */
export function keywordOccurrences(rule: CompiledSecretRule, content: RuleFile | Buffer): number[] {
  const haystack = (Buffer.isBuffer(content) ? ruleFile(content) : content).latin1(rule.ignoreCase);
  const found: number[] = [];
  for (const k of rule.keywords)
    for (let i = haystack.indexOf(k); i !== -1; i = haystack.indexOf(k, i + 1)) found.push(i, i + k.length);
  return found;
}

/** Whether one of the rule's keywords is in `text` (a rule with none always runs). */
export function keywordsIn(rule: CompiledSecretRule, text: string): boolean {
  return rule.keywords.length === 0 || keywordOccurrences(rule, Buffer.from(text, 'utf8')).length > 0;
}

/** Keyword occurrences ordered by start (then end), each once, whatever order they came in. */
function ordered(pairs: readonly number[]): readonly number[] {
  let sorted = true;
  for (let i = 2; i < pairs.length && sorted; i += 2)
    sorted = pairs[i - 2] < pairs[i] || (pairs[i - 2] === pairs[i] && pairs[i - 1] < pairs[i + 1]);
  if (sorted) return pairs;
  const order = Array.from({ length: pairs.length >> 1 }, (_, k) => k * 2).sort(
    (a, b) => pairs[a] - pairs[b] || pairs[a + 1] - pairs[b + 1],
  );
  const out: number[] = [];
  for (const i of order) {
    const n = out.length;
    if (n > 0 && out[n - 2] === pairs[i] && out[n - 1] === pairs[i + 1]) continue;
    out.push(pairs[i], pairs[i + 1]);
  }
  return out;
}

const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** A word character, or `+` and `/`: a prefix after one of these is inside base64, not a token's start. */
const isTokenChar = (c: number) => isWordChar(c) || c === 43 || c === 47;

/**
 * Where a rule looks: `[start, end)` byte pairs (flat, in order, not overlapping) from
 * WINDOW_BEFORE bytes before each keyword to WINDOW_AFTER after it; the whole file for a rule
 * without keywords.
 */
export function ruleWindows(rule: CompiledSecretRule, size: number, keywordsAt: readonly number[]): number[] {
  if (rule.keywords.length === 0) return [0, size];
  const at = ordered(keywordsAt);
  const windows: number[] = [];
  for (let k = 0; k < at.length; k += 2) {
    const start = Math.max(0, at[k] - WINDOW_BEFORE);
    const stop = Math.min(size, at[k + 1] + WINDOW_AFTER);
    const last = windows.length - 1;
    if (last > 0 && start <= windows[last]) windows[last] = Math.max(windows[last], stop);
    else windows.push(start, stop);
  }
  return windows;
}

/**
 * The secrets one rule finds in a file. The caller has checked the path (ruleAppliesToPath).
 * `keywordsAt` are the rule's keyword occurrences (keywordOccurrences, the default, or the
 * pre-filter's).
 */
export function runSecretRule(
  rule: CompiledSecretRule,
  path: string,
  content: RuleFile | string,
  keywordsAt?: readonly number[],
): RuleMatch[] {
  const found: RuleMatch[] = [];
  if (rule.spec.regex === undefined) return found;
  const file = typeof content === 'string' ? ruleFile(content) : content;
  const at = keywordsAt ?? (rule.keywords.length > 0 ? keywordOccurrences(rule, file) : []);
  if (rule.spec.matchStartsAt && rule.keywords.length > 0) return matchesAtKeywords(rule, path, file, at);
  const windows = ruleWindows(rule, file.bytes.length, at);
  for (let w = 0; w + 1 < windows.length; w += 2) {
    const [start, stop] = [windows[w], windows[w + 1]];
    const piece =
      start === 0 && stop === file.bytes.length ? file.text() : file.bytes.toString('utf8', start, stop);
    const m = matcherFor(rule, piece);
    while (m.find()) {
      const match = accepted(rule, path, piece, m);
      if (match)
        found.push({
          ruleId: rule.ruleId,
          secret: match.secret,
          line: lineIn(file, start, piece, match.index),
        });
    }
  }
  return found;
}

/** The line of `index` in `piece`, a window that starts at byte `start` of the file. */
function lineIn(file: RuleFile, start: number, piece: string, index: number): number {
  let line = file.lineAt(start);
  for (let i = piece.indexOf('\n'); i !== -1 && i < index; i = piece.indexOf('\n', i + 1)) line += 1;
  return line;
}

/**
 * A rule whose match starts at its keyword is tried once at each keyword, anchored there: most of
 * the prefixes found in base64 fail within a few characters, where a search through the window
 * would read all of it.
 */
function matchesAtKeywords(
  rule: CompiledSecretRule,
  path: string,
  file: RuleFile,
  keywordsAt: readonly number[],
): RuleMatch[] {
  const found: RuleMatch[] = [];
  const { bytes } = file;
  const token = rule.spec.matchStartsAt === 'token';
  const at = ordered(keywordsAt);
  let after = 0;
  for (let k = 0; k < at.length; k += 2) {
    const keyword = at[k];
    if (keyword < after || (k > 0 && at[k - 2] === keyword)) continue;
    if (token && keyword > 0 && isTokenChar(bytes[keyword - 1])) continue;
    // The token starts at its keyword (or, through the pattern's `^`, at the byte before it).
    const head = rule.head;
    if (head && !headMatches(head, bytes, keyword) && !(keyword > 0 && headMatches(head, bytes, keyword - 1)))
      continue;
    const from = token ? Math.max(0, keyword - 1) : keyword;
    const piece = bytes.toString('utf8', from, Math.min(bytes.length, keyword + WINDOW_AFTER));
    const m = matcherFor(rule, piece);
    if (!m.lookingAt()) continue;
    // The match is ASCII: as many bytes as characters.
    after = from + m.end(0);
    const match = accepted(rule, path, piece, m);
    if (match)
      found.push({ ruleId: rule.ruleId, secret: match.secret, line: lineIn(file, from, piece, match.index) });
  }
  return found;
}

type Re2Matcher = ReturnType<RE2JS['matcher']>;

// One matcher per rule, given each piece of text in turn: building a matcher costs more than
// running it on a short window. The scan runs one file at a time, and a matcher is used to the end
// before the next piece is given to it (nothing here awaits).
const matchers = new WeakMap<CompiledSecretRule, Re2Matcher>();

function matcherFor(rule: CompiledSecretRule, text: string): Re2Matcher {
  const m = matchers.get(rule);
  if (m) return m.resetMatcherInput(text);
  const fresh = rule.regex!.matcher(text);
  matchers.set(rule, fresh);
  return fresh;
}

function lineAround(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const to = text.indexOf('\n', end);
  return text.slice(from, to === -1 ? text.length : to);
}

function allowed(
  list: CompiledAllowlist,
  path: string,
  secret: string,
  match: () => string,
  line: () => string,
): boolean {
  const checks: boolean[] = [];
  if (list.regexes.length > 0) {
    const target = list.target === 'secret' ? secret : list.target === 'match' ? match() : line();
    checks.push(list.regexes.some((r) => r.matcher(target).find()));
  }
  if (list.paths.length > 0) checks.push(list.paths.some((r) => r.matcher(path).find()));
  if (list.stopwords.length > 0) {
    const lower = secret.toLowerCase();
    checks.push(list.stopwords.some((s) => lower.includes(s)));
  }
  if (checks.length === 0) return false;
  return list.and ? checks.every(Boolean) : checks.some(Boolean);
}

/**
 * The secret of one regex match and where it is in `text`, unless a filter (entropy, placeholder,
 * checksum, allowlist) drops it.
 */
function accepted(
  rule: CompiledSecretRule,
  path: string,
  text: string,
  m: Re2Matcher,
): { secret: string; index: number } | undefined {
  let group = rule.spec.secretGroup;
  if (group === undefined) {
    group = 0;
    for (let g = 1; g <= m.groupCount(); g++)
      if (m.group(g) !== null) {
        group = g;
        break;
      }
  }
  const secret = m.group(group);
  if (!secret) return undefined;
  const index = m.start(group);
  if (rule.spec.entropy !== undefined && shannonEntropy(secret) < rule.spec.entropy) return undefined;
  if (isPlaceholder(secret) || failsTokenChecksum(secret)) return undefined;
  const [start, end] = [m.start(0), m.end(0)];
  const allowedBy = (a: CompiledAllowlist) =>
    allowed(
      a,
      path,
      secret,
      () => text.slice(start, end),
      () => lineAround(text, start, end),
    );
  if (rule.allowlists.some(allowedBy)) return undefined;
  return { secret, index };
}
