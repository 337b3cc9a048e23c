// A rule of the secret scan written as data: an RE2 pattern (run with re2js, so no pattern can
// backtrack), the literal keywords one of which every match contains (they feed the pre-filter), and
// what narrows a match down (entropy, stopwords, allowlists, a checksum). The built-in provider rules
// (provider-rules.ts) and the rules operators add in gitleaks's TOML format (gitleaks-rules.ts) are
// both compiled here, with the same checks and the same errors; secret-rule-runner.ts runs them.
import { RE2JS } from 're2js';
import { type HeadElement, tokenHead } from './token-head';

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

export interface CompiledAllowlist {
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
  /** The spec's regex compiled (on first use with CompileOptions.lazy); undefined without one. */
  readonly regex?: RE2JS;
  path?: RE2JS;
  /** Whether the path test passes: the RE2 pattern, or the same simple pattern as a RegExp. */
  pathTest?: (path: string) => boolean;
  /** Keywords, lower-cased unless the spec says they are case-sensitive. */
  keywords: readonly string[];
  ignoreCase: boolean;
  /** A token rule's fixed start (token-head.ts), tested on bytes before RE2; absent when unknown. */
  head?: readonly HeadElement[];
  allowlists: readonly CompiledAllowlist[];
}

export interface RuleMatch {
  ruleId: string;
  secret: string;
  /** 1-based line of the secret in the file. */
  line: number;
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
export interface CompileOptions {
  /**
   * Compile each rule's regex when it is first run, not now, and skip the checks that need it
   * (syntax, `secretGroup`): for the built-in rules, which tests compile and check in full. Most
   * rules' RE2 never runs on most images (a keyword is rarely followed by its token's head), so a
   * process holds only the programs it used, and starts faster.
   */
  lazy?: boolean;
}

export function compileSecretRules(
  set: string,
  specs: readonly SecretRuleSpec[],
  options: CompileOptions = {},
): CompiledSecretRule[] {
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
      spec.regex === undefined || options.lazy
        ? undefined
        : compilePattern(spec.regex, `${where} regex`, problems);
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
    let compiled = regex;
    rules.push({
      ruleId: `${set}/${spec.id}`,
      spec,
      get regex() {
        if (compiled === undefined && spec.regex !== undefined) compiled = RE2JS.compile(spec.regex);
        return compiled;
      },
      path,
      ...(path ? { pathTest: pathTester(spec.path!, path) } : {}),
      keywords,
      ignoreCase,
      ...(spec.regex !== undefined && spec.matchStartsAt === 'token' ? headOf(spec.regex) : {}),
      allowlists,
    });
  });
  if (problems.length > 0) throw new SecretRuleError(problems);
  return rules;
}

function headOf(pattern: string): { head?: HeadElement[] } {
  const head = tokenHead(pattern);
  return head.length > 0 ? { head } : {};
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

/** Rules on the path alone (no regex) that this path matches: the file itself is the finding. */
export function pathOnlyRules(rules: readonly CompiledSecretRule[], path: string): CompiledSecretRule[] {
  return rules.filter((r) => r.spec.regex === undefined && r.pathTest && r.pathTest(path));
}
