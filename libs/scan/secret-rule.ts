// A rule of the secret scan written as data: an RE2 pattern (run with re2js, so no pattern can
// backtrack), the literal keywords one of which every match contains (they feed the pre-filter), and
// what narrows a match down (entropy, stopwords, allowlists, a checksum). The built-in provider rules
// (provider-rules.ts) and the rules operators add in gitleaks's TOML format (gitleaks-rules.ts) are
// both compiled here, with the same checks and the same errors.
import { RE2JS } from 're2js';
import { failsTokenChecksum, isPlaceholder } from './secret-placeholders';

/** What an allowlist's regexes are matched against (gitleaks's `regexTarget`). */
export type AllowlistTarget = 'secret' | 'match' | 'line';

export interface SecretRuleAllowlist {
  description?: string;
  /** `OR` (default): any one kind of entry allows; `AND`: every kind given must. */
  condition?: 'OR' | 'AND';
  regexTarget?: AllowlistTarget;
  regexes?: readonly string[];
  /** RE2 patterns on the file path. */
  paths?: readonly string[];
  /** A secret containing one of these (any case) is not a finding. */
  stopwords?: readonly string[];
}

/** A rule as written (in provider-rules.ts, or read from a gitleaks TOML file). */
export interface SecretRuleSpec {
  /** Unique within its set; the finding's rule id is `<set>/<id>`. */
  id: string;
  /** What a finding is, in words. */
  description: string;
  /** RE2 syntax. Absent: a rule on the path alone (a PKCS#12 file is a finding by its name). */
  regex?: string;
  /** The capture group that holds the secret; default the first group that matched, else the match. */
  secretGroup?: number;
  /** Lowest Shannon entropy (bits per character) of the secret. */
  entropy?: number;
  /**
   * ASCII literals, matched in any case: a file that holds none of them is not searched. Every match
   * of `regex` must contain one (tests check this for the built-in rules).
   */
  keywords?: readonly string[];
  /** Keywords match in their exact case (built-in rules whose prefix has a fixed case, `AKIA`). */
  caseSensitiveKeywords?: boolean;
  /**
   * Where every match starts, when the rule knows: `keyword`, at one of its keywords (a name the
   * provider's word starts); `token`, one character before a keyword that follows the start of the
   * text or a character other than a letter, digit, `_`, `+` or `/` (a token's prefix, its pattern
   * opening with that character; after `+` or `/` the prefix is inside base64). The rule is then tried once, anchored, at each such keyword.
   */
  matchStartsAt?: 'keyword' | 'token';
  /** RE2 on the file path: the rule looks only at files whose path matches. */
  path?: string;
  allowlists?: readonly SecretRuleAllowlist[];
}

interface CompiledAllowlist {
  and: boolean;
  target: AllowlistTarget;
  regexes: RE2JS[];
  paths: RE2JS[];
  stopwords: string[];
}

/** A rule ready to run. */
export interface CompiledSecretRule {
  /** `<set>/<id>`. */
  ruleId: string;
  spec: SecretRuleSpec;
  regex?: RE2JS;
  path?: RE2JS;
  /** Whether the path test passes: the RE2 pattern, or the same simple pattern as a RegExp. */
  pathTest?: (path: string) => boolean;
  /** Keywords, lower-cased unless the spec says they are case-sensitive. */
  keywords: readonly string[];
  ignoreCase: boolean;
  /** Finds the keywords in text (ASCII letters in either case); undefined when there are none. */
  keywordPattern?: RegExp;
  allowlists: readonly CompiledAllowlist[];
}

export interface RuleMatch {
  ruleId: string;
  secret: string;
  /** Offset of the secret in the text. */
  index: number;
}

export class SecretRuleError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid secret rules:\n  ${problems.join('\n  ')}`);
    this.name = 'SecretRuleError';
  }
}

const MAX_PATTERN = 4096;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

function compilePattern(pattern: string, where: string, problems: string[]): RE2JS | undefined {
  if (pattern.length > MAX_PATTERN) {
    problems.push(`${where}: longer than ${MAX_PATTERN} characters`);
    return undefined;
  }
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    // re2js's messages name the construct RE2 lacks (`invalid escape sequence: \1`, lookarounds).
    problems.push(
      `${where}: ${(e as Error).message} (RE2 syntax: no lookaround, no backreferences, repeats up to 1000)`,
    );
    return undefined;
  }
}

function checkKeyword(
  word: string,
  where: string,
  problems: string[],
  ignoreCase: boolean,
): string | undefined {
  if (word.length === 0 || !/^[\x20-\x7e]+$/.test(word)) {
    problems.push(`${where}: ${JSON.stringify(word)} must be non-empty printable ASCII`);
    return undefined;
  }
  return ignoreCase ? word.toLowerCase() : word;
}

/**
 * Compiles a set of rules, reporting every problem at once (a rule file is fixed in one go). `set`
 * names the set (`provider`, or an operator's rule file) and prefixes each rule id.
 */
export function compileSecretRules(set: string, specs: readonly SecretRuleSpec[]): CompiledSecretRule[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const rules: CompiledSecretRule[] = [];
  specs.forEach((spec, i) => {
    const where = `${set}: rule ${spec.id ? JSON.stringify(spec.id) : `#${i + 1}`}`;
    if (!ID.test(spec.id ?? '')) problems.push(`${where}: id must match ${ID.source}`);
    else if (ids.has(spec.id)) problems.push(`${where}: duplicate id`);
    ids.add(spec.id);
    if (!spec.regex && !spec.path) problems.push(`${where}: needs a regex, a path or both`);
    const regex =
      spec.regex === undefined ? undefined : compilePattern(spec.regex, `${where} regex`, problems);
    const path = spec.path === undefined ? undefined : compilePattern(spec.path, `${where} path`, problems);
    if (regex && spec.secretGroup !== undefined) {
      if (
        !Number.isInteger(spec.secretGroup) ||
        spec.secretGroup < 0 ||
        spec.secretGroup > regex.groupCount()
      )
        problems.push(
          `${where}: secretGroup ${spec.secretGroup} but the regex has ${regex.groupCount()} groups`,
        );
    }
    if (spec.entropy !== undefined && !(spec.entropy >= 0 && spec.entropy <= 8))
      problems.push(`${where}: entropy must be between 0 and 8`);
    const ignoreCase = spec.caseSensitiveKeywords !== true;
    const keywords = (spec.keywords ?? [])
      .map((k, j) => checkKeyword(k, `${where} keyword ${j + 1}`, problems, ignoreCase))
      .filter((k): k is string => k !== undefined);
    const allowlists = (spec.allowlists ?? []).map((a, j) => {
      const w = `${where} allowlist ${j + 1}`;
      return {
        and: a.condition === 'AND',
        target: a.regexTarget ?? 'secret',
        regexes: (a.regexes ?? [])
          .map((r, k) => compilePattern(r, `${w} regex ${k + 1}`, problems))
          .filter((r): r is RE2JS => r !== undefined),
        paths: (a.paths ?? [])
          .map((r, k) => compilePattern(r, `${w} path ${k + 1}`, problems))
          .filter((r): r is RE2JS => r !== undefined),
        stopwords: (a.stopwords ?? []).map((s) => s.toLowerCase()),
      };
    });
    const keywordPattern =
      keywords.length > 0
        ? new RegExp(
            keywords.map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'),
            ignoreCase ? 'gi' : 'g',
          )
        : undefined;
    rules.push({
      ruleId: `${set}/${spec.id}`,
      spec,
      regex,
      path,
      ...(path ? { pathTest: pathTester(spec.path!, path) } : {}),
      keywords,
      ignoreCase,
      keywordPattern,
      allowlists,
    });
  });
  if (problems.length > 0) throw new SecretRuleError(problems);
  return rules;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Characters of text a rule reads before and after each of its keywords. */
export const WINDOW_BEFORE = 256;
export const WINDOW_AFTER = 1100;

/**
 * Where a rule looks: `[start, end)` pairs (flat, in order, not overlapping) from WINDOW_BEFORE
 * characters before each of its keywords to WINDOW_AFTER after. RE2 in JavaScript reads a few MB/s
 * with `(?i)`, and a rule's match is where its keyword is (a token starts with it, a name holds
 * it): a minified file can be a megabyte on one line. A rule without keywords reads the whole
 * text. The windows depend on the text alone, so the scan with and without the pre-filter reads
 * the same ones.
 */
export function ruleWindows(rule: CompiledSecretRule, text: string): number[] {
  if (!rule.keywordPattern) return [0, text.length];
  const windows: number[] = [];
  const pattern = rule.keywordPattern;
  pattern.lastIndex = 0;
  const boundary = rule.spec.matchStartsAt === 'token';
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (boundary && m.index > 0 && isWordChar(text.charCodeAt(m.index - 1))) continue;
    // A match that starts at its keyword needs only the character before it.
    const start = Math.max(0, m.index - (boundary ? 1 : WINDOW_BEFORE));
    const stop = Math.min(text.length, m.index + m[0].length + WINDOW_AFTER);
    const last = windows.length - 1;
    if (last > 0 && start <= windows[last]) windows[last] = stop;
    else windows.push(start, stop);
  }
  return windows;
}

const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
/** A word character, or `+` and `/`: a prefix after one of these is inside base64, not a token's start. */
const isTokenChar = (c: number) => isWordChar(c) || c === 43 || c === 47;

/** Whether one of the rule's keywords is in `text` (a rule with none always runs). */
export function keywordsIn(rule: CompiledSecretRule, text: string): boolean {
  if (!rule.keywordPattern) return true;
  rule.keywordPattern.lastIndex = 0;
  return rule.keywordPattern.test(text);
}

// RE2 patterns made only of these mean the same as a RegExp (RE2 is a subset of JavaScript's
// syntax there), and a RegExp tests a short path a hundred times faster than re2js.
const SIMPLE_PATTERN = /^(?:\(\?i\))?(?:[^\\(]|\\[.\\/$^*+?()[\]{}|dws-]|\((?:\?:)?)*$/;

function pathTester(pattern: string, re2: RE2JS): (path: string) => boolean {
  if (SIMPLE_PATTERN.test(pattern) && !pattern.includes('[[:')) {
    try {
      const ignoreCase = pattern.startsWith('(?i)');
      const regex = new RegExp(ignoreCase ? pattern.slice(4) : pattern, ignoreCase ? 'i' : '');
      return (p) => regex.test(p);
    } catch {
      // fall through to RE2
    }
  }
  return (p) => re2.matcher(p).find();
}

/** Whether the rule looks at files with this path at all. */
export function ruleAppliesToPath(rule: CompiledSecretRule, path: string): boolean {
  return !rule.pathTest || rule.pathTest(path);
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
 * The secrets one rule finds in a file's text. The caller has checked the path
 * (ruleAppliesToPath) and, through the pre-filter or keywordsIn, that a keyword is there.
 */
export function runSecretRule(rule: CompiledSecretRule, path: string, text: string): RuleMatch[] {
  const found: RuleMatch[] = [];
  if (!rule.regex) return found;
  if (rule.spec.matchStartsAt && rule.keywordPattern) return matchesAtKeywords(rule, path, text);
  const windows = ruleWindows(rule, text);
  for (let w = 0; w + 1 < windows.length; w += 2) {
    const offset = windows[w];
    const piece = offset === 0 && windows[w + 1] === text.length ? text : text.slice(offset, windows[w + 1]);
    const m = matcherFor(rule, piece);
    while (m.find()) {
      const match = accepted(rule, path, piece, m);
      if (match) found.push({ ...match, index: match.index + offset });
    }
  }
  return found;
}

/**
 * A rule whose match starts at its keyword is tried once at each keyword, anchored there: most of
 * the prefixes found in base64 fail within a few characters, where a search through the window
 * would read all of it.
 */
function matchesAtKeywords(rule: CompiledSecretRule, path: string, text: string): RuleMatch[] {
  const found: RuleMatch[] = [];
  const pattern = rule.keywordPattern!;
  const token = rule.spec.matchStartsAt === 'token';
  pattern.lastIndex = 0;
  let after = 0;
  for (let k = pattern.exec(text); k; k = pattern.exec(text)) {
    if (k.index < after || (token && k.index > 0 && isTokenChar(text.charCodeAt(k.index - 1)))) continue;
    const from = token ? Math.max(0, k.index - 1) : k.index;
    const piece = text.slice(from, k.index + WINDOW_AFTER);
    const m = matcherFor(rule, piece);
    if (!m.lookingAt()) continue;
    after = from + m.end(0);
    const match = accepted(rule, path, piece, m);
    if (match) found.push({ ...match, index: match.index + from });
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

/** The secret of one regex match, unless a filter (entropy, placeholder, checksum, allowlist) drops it. */
function accepted(
  rule: CompiledSecretRule,
  path: string,
  text: string,
  m: Re2Matcher,
): RuleMatch | undefined {
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
  return { ruleId: rule.ruleId, secret, index };
}

/** Rules on the path alone (no regex) that this path matches: the file itself is the finding. */
export function pathOnlyRules(rules: readonly CompiledSecretRule[], path: string): CompiledSecretRule[] {
  return rules.filter((r) => !r.regex && r.pathTest && r.pathTest(path));
}
