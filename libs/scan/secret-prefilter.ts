// Decides, in one cheap pass over a file's bytes, which rules of the secret scan could report
// anything in it. Most files of an image contain none of the rules' literals and are never decoded
// or handed to secretlint; the rest run only the rules whose triggers fired (secret-triggers.ts)
// and the rule-table rules (provider rules, operators' rules) whose keywords are in the file.
import { type Literal, LiteralMatcher } from './literal-matcher';
import { PROVIDER_RULE_SET } from './provider-rule-set';
import { type CompiledSecretRule, ruleAppliesToPath } from './secret-rule';
import { ASSIGNMENT_BREAKS, SECRET_HINT_WORDS, SECRETLINT_RULE_IDS } from './secret-rules';
import { SECRET_TRIGGERS, type SecretTrigger } from './secret-triggers';

export interface SecretScanPlan {
  /** Ids of the secretlint rules that could report something in the file. */
  rules: ReadonlySet<string>;
  /**
   * What the entropy rule must read: `[start, end)` byte offsets (flat pairs, in order) of pieces
   * of the text that start and end at ASSIGNMENT_BREAKS (or the ends of the text) and together
   * hold every hint word. Empty: the rule cannot find anything.
   */
  entropySpans: number[];
  /** Rule-table rules whose keywords are in the file (or that have none) and whose path test passes. */
  tableRules: CompiledSecretRule[];
  /**
   * For each of `tableRules`, where its keywords are: `[start, end)` byte offsets (flat pairs, in
   * the order the automaton saw their ends), empty for a rule without keywords.
   */
  keywordsAt: number[][];
}

/** Rules of SECRETLINT_CONFIG with no trigger: they run on every file. */
export const ALWAYS_RUN_RULES: readonly string[] = SECRETLINT_RULE_IDS.filter(
  (id) => !SECRET_TRIGGERS.some((t) => t.rule === id),
);

interface LiteralUse {
  /** Indexes into SECRET_TRIGGERS. */
  triggers: number[];
  entropyHint: boolean;
  /** Indexes into the table rules. */
  tableRules: number[];
}

/**
 * The distinct literals of all triggers, the entropy rule's hint words and the table rules'
 * keywords (matched in any case, as gitleaks does), and who uses each.
 */
function collectLiterals(tableRules: readonly CompiledSecretRule[]): {
  literals: Literal[];
  uses: LiteralUse[];
} {
  const literals: Literal[] = [];
  const uses: LiteralUse[] = [];
  const indexOf = new Map<string, number>();
  const use = (text: string, ignoreCase: boolean): LiteralUse => {
    const key = `${ignoreCase ? 'i' : 's'}:${text}`;
    let index = indexOf.get(key);
    if (index === undefined) {
      index = literals.length;
      indexOf.set(key, index);
      literals.push({ text, ignoreCase });
      uses.push({ triggers: [], entropyHint: false, tableRules: [] });
    }
    return uses[index];
  };
  SECRET_TRIGGERS.forEach((trigger, index) => {
    for (const text of trigger.literals) use(text, trigger.ignoreCase === true).triggers.push(index);
  });
  for (const word of SECRET_HINT_WORDS) use(word, true).entropyHint = true;
  tableRules.forEach((rule, index) => {
    for (const k of rule.keywords) use(k, rule.ignoreCase).tableRules.push(index);
  });
  return { literals, uses };
}

/** Bytes between two spans of the entropy rule below which they are read as one. */
const JOIN_SPANS_WITHIN = 256;

const IS_BREAK = new Uint8Array(256);
for (const c of ASSIGNMENT_BREAKS) IS_BREAK[c.charCodeAt(0)] = 1;

/**
 * The pre-filter for one set of table rules (the provider rules, plus an operator's rules when a
 * policy names some): one literal matcher over every trigger, hint word and keyword.
 */
export class SecretPrefilter {
  private readonly uses: readonly LiteralUse[];
  /** Bytes in each literal. */
  private readonly lengths: readonly number[];
  private readonly matcher: LiteralMatcher;
  /** Table rules without keywords: candidates in every file (their path test still applies). */
  private readonly keywordless: readonly number[];
  /** Rules on the path alone (no regex). */
  readonly pathOnly: readonly CompiledSecretRule[];
  private readonly fired = new Uint8Array(SECRET_TRIGGERS.length);
  private readonly tableFired: Uint8Array;

  constructor(readonly tableRules: readonly CompiledSecretRule[]) {
    const { literals, uses } = collectLiterals(tableRules);
    this.uses = uses;
    this.lengths = literals.map((l) => l.text.length);
    this.matcher = new LiteralMatcher(literals);
    this.keywordless = tableRules.flatMap((r, i) =>
      r.keywords.length === 0 && r.spec.regex !== undefined ? [i] : [],
    );
    this.pathOnly = tableRules.filter((r) => r.spec.regex === undefined);
    this.tableFired = new Uint8Array(tableRules.length);
  }

  /**
   * The rules worth running on one file and the spans the entropy rule must read. A trigger's
   * `confirm` pattern is tested on the bytes around each of its literals read as Latin-1, which
   * finds what it would find in the UTF-8 text: the patterns match ASCII characters only
   * (secret-triggers.ts).
   */
  plan(path: string, bytes: Buffer): SecretScanPlan {
    // Reused from call to call (plan runs to its end before the next call): a file allocates only
    // what it keeps.
    const fired = this.fired.fill(0);
    const tableFired = this.tableFired.fill(0);
    /** Table rules whose keyword was seen, in the order first seen. */
    const firedRules: number[] = [...this.keywordless];
    for (const i of this.keywordless) tableFired[i] = 1;
    /** For triggers with a `confirm` pattern: where their literals are, `[start, end)` pairs. */
    const triggerAt: number[][] = [];
    const keywordsAt: number[][] = [];
    const entropySpans: number[] = [];
    let spanEnd = -1;
    this.matcher.scan(bytes, (literal, end) => {
      const use = this.uses[literal];
      for (const t of use.triggers) {
        fired[t] = 1;
        if (SECRET_TRIGGERS[t].confirm) (triggerAt[t] ??= []).push(end + 1 - this.lengths[literal], end + 1);
      }
      for (const t of use.tableRules) {
        if (tableFired[t] === 0) {
          tableFired[t] = 1;
          firedRules.push(t);
        }
        (keywordsAt[t] ??= []).push(end + 1 - this.lengths[literal], end + 1);
      }
      // A hint word holds no break, so one that ends past the last span is in a new one.
      if (use.entropyHint && end > spanEnd) {
        let start = end;
        while (start > 0 && IS_BREAK[bytes[start - 1]] === 0) start -= 1;
        spanEnd = end + 1;
        while (spanEnd < bytes.length && IS_BREAK[bytes[spanEnd]] === 0) spanEnd += 1;
        // Spans close together are read as one: the breaks between them still separate them, and
        // one larger read costs less than many small ones.
        const last = entropySpans.length - 1;
        if (last > 0 && start - entropySpans[last] <= JOIN_SPANS_WITHIN) entropySpans[last] = spanEnd;
        else entropySpans.push(start, spanEnd);
      }
    });
    let rules = ALWAYS_RUN_RULES.length > 0 ? new Set(ALWAYS_RUN_RULES) : undefined;
    for (let t = 0; t < fired.length; t++) {
      const trigger = SECRET_TRIGGERS[t];
      if (fired[t] === 0 || rules?.has(trigger.rule)) continue;
      if (trigger.pathMayMatch && !trigger.pathMayMatch(path)) continue;
      if (trigger.confirm && !confirmedNear(trigger.confirm, bytes, triggerAt[t])) continue;
      (rules ??= new Set()).add(trigger.rule);
    }
    // In table order, as the reference scan runs them (the first rule to find a secret names it).
    firedRules.sort((a, b) => a - b);
    const tableRules: CompiledSecretRule[] = [];
    const tableKeywordsAt: number[][] = [];
    for (const t of firedRules)
      if (ruleAppliesToPath(this.tableRules[t], path)) {
        tableRules.push(this.tableRules[t]);
        tableKeywordsAt.push(keywordsAt[t] ?? []);
      }
    return { rules: rules ?? NO_RULES, entropySpans, tableRules, keywordsAt: tableKeywordsAt };
  }
}

const NO_RULES: ReadonlySet<string> = new Set();

/** Whether `confirm` matches the bytes (read as Latin-1) around one of the literals at `at`. */
function confirmedNear(
  confirm: NonNullable<SecretTrigger['confirm']>,
  bytes: Buffer,
  at: readonly number[],
): boolean {
  for (let k = 0; k + 1 < at.length; k += 2) {
    const from = Math.max(0, at[k] - confirm.before);
    const to = Math.min(bytes.length, at[k + 1] + confirm.after);
    if (confirm.pattern.test(bytes.toString('latin1', from, to))) return true;
  }
  return false;
}

/** The pre-filter of the built-in rules. */
export const DEFAULT_PREFILTER = new SecretPrefilter(PROVIDER_RULE_SET);

/** The plan of the built-in rules for one file. */
export function planSecretScan(path: string, bytes: Buffer): SecretScanPlan {
  return DEFAULT_PREFILTER.plan(path, bytes);
}
