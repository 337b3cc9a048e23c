// Decides, in one cheap pass over a file's bytes, which rules of the secret scan could report
// anything in it. Most files of an image contain none of the rules' literals and are never decoded
// or handed to secretlint; the rest run only the rules whose triggers fired (secret-triggers.ts).
import { type Literal, LiteralMatcher } from './literal-matcher';
import { ASSIGNMENT_BREAKS, SECRET_HINT_WORDS, SECRETLINT_RULE_IDS } from './secret-rules';
import { SECRET_TRIGGERS } from './secret-triggers';

export interface SecretScanPlan {
  /** Ids of the secretlint rules that could report something in the file. */
  rules: ReadonlySet<string>;
  /**
   * What the entropy rule must read: `[start, end)` byte offsets (flat pairs, in order) of pieces
   * of the text that start and end at ASSIGNMENT_BREAKS (or the ends of the text) and together
   * hold every hint word. Empty: the rule cannot find anything.
   */
  entropySpans: number[];
}

/** Rules of SECRETLINT_CONFIG with no trigger: they run on every file. */
export const ALWAYS_RUN_RULES: readonly string[] = SECRETLINT_RULE_IDS.filter(
  (id) => !SECRET_TRIGGERS.some((t) => t.rule === id),
);

interface LiteralUse {
  /** Indexes into SECRET_TRIGGERS. */
  triggers: number[];
  entropyHint: boolean;
}

/** The distinct literals of all triggers and the entropy rule's hint words, and who uses each. */
function collectLiterals(): { literals: Literal[]; uses: LiteralUse[] } {
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
      uses.push({ triggers: [], entropyHint: false });
    }
    return uses[index];
  };
  SECRET_TRIGGERS.forEach((trigger, index) => {
    for (const text of trigger.literals) use(text, trigger.ignoreCase === true).triggers.push(index);
  });
  for (const word of SECRET_HINT_WORDS) use(word, true).entropyHint = true;
  return { literals, uses };
}

const { literals: LITERALS, uses: LITERAL_USES } = collectLiterals();
const MATCHER = new LiteralMatcher(LITERALS);

/** Bytes between two spans of the entropy rule below which they are read as one. */
const JOIN_SPANS_WITHIN = 256;

const IS_BREAK = new Uint8Array(256);
for (const c of ASSIGNMENT_BREAKS) IS_BREAK[c.charCodeAt(0)] = 1;

/**
 * The rules worth running on one file and the spans the entropy rule must read. A trigger's
 * `confirm` pattern is tested on the bytes read as Latin-1, which finds what it would find in the
 * UTF-8 text: the patterns match ASCII characters only (secret-triggers.ts).
 */
export function planSecretScan(path: string, bytes: Buffer): SecretScanPlan {
  const fired = new Uint8Array(SECRET_TRIGGERS.length);
  const entropySpans: number[] = [];
  let spanEnd = -1;
  MATCHER.scan(bytes, (literal, end) => {
    const use = LITERAL_USES[literal];
    for (const t of use.triggers) fired[t] = 1;
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
  let latin1: string | undefined;
  const rules = new Set(ALWAYS_RUN_RULES);
  for (let t = 0; t < fired.length; t++) {
    const trigger = SECRET_TRIGGERS[t];
    if (fired[t] === 0 || rules.has(trigger.rule)) continue;
    if (trigger.pathMayMatch && !trigger.pathMayMatch(path)) continue;
    if (trigger.confirm && !trigger.confirm.test((latin1 ??= bytes.toString('latin1')))) continue;
    rules.add(trigger.rule);
  }
  return { rules, entropySpans };
}
