// The name-based rule (`entropy/assignment`): a value assigned to a name that says it holds a
// secret (`DB_PASSWORD`, `apiToken`, `client_secret`), in any of the syntaxes code and config use:
//
//   .env / shell      API_TOKEN=…   export API_TOKEN=…   X_TOKEN=… inside a JSON string
//   INI, properties   api_token = …   db.password: …
//   YAML, JSON, HCL   token: …   "token": "…"   token = "…"
//   Go                token := "…"   token := `…`   var token string = "…"
//   Makefile          TOKEN := …   TOKEN ::= …   TOKEN :::= …   TOKEN ?= …
//   PHP               $token = "…";   $token .= "…";   define('TOKEN', '…')   'token' => '…'
//   logstash, Ruby    "token" => "…"
//   Java              System.setProperty("X_TOKEN", "…")   String token = "…";
//   XML               <apiToken>…</apiToken>
//   Dockerfile        ENV TOKEN=…   ENV TOKEN …   ARG TOKEN=…
//
// Each hint word in the text is grown into the name around it, and the syntax is read forward from
// the name's end; no match consumes text another could need (a JSON string holding `KEY=value` is
// read as such). The value is then judged: short values (8 characters and up) when the name is
// clearly a secret's, long ones when they look random; references, templates, placeholders,
// identifiers and dotted names, versions and Maven coordinates are not secrets.
import { isPlaceholder } from './secret-placeholders';
import { shannonEntropy } from './secret-rule';

export interface EntropyMatch {
  /** Offset of the value in the content. */
  index: number;
  value: string;
}

/** Every secret-looking name contains one of these (in any case): text without any skips the rule. */
export const SECRET_HINT_WORDS = ['secret', 'token', 'passw', 'pwd', 'credential', 'key', '_pass'] as const;
const HINT = /secret|token|passw|pwd|credential|key|_pass/gi;
const HINT_ONE = /secret|token|passw|pwd|credential|key|_pass/i;

/**
 * ASCII characters no assignment the rule reports can hold and that always stand for themselves
 * in UTF-8: text between two of them can be read on its own. Names, operators and values never
 * cross a line, a `;`, a brace or a bracket (a quoted value stops at one: minified code has
 * megabyte lines, and the pieces between these characters are small).
 */
export const ASSIGNMENT_BREAKS = '\n\v\f\r;{}[]';
const isBreak = (c: string | undefined) => c !== undefined && ASSIGNMENT_BREAKS.includes(c);

const MAX_NAME = 64;
const MAX_VALUE = 1000;
/** Shortest value judged when the name is clearly a secret's (a password, a token). */
const MIN_SHORT_VALUE = 8;
/** Shortest value judged when the name only says `key`. */
const MIN_VALUE = 16;

const SECRET_WORD =
  /secret|token|passw(?:or)?d|passwd|pwd|credential|api[_.-]?key|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key|(?:^|[_.-])key$|(?:^|[_.-])pass$/i;
const NOT_SECRET_SUFFIX =
  /[_.-](?:url|uri|file|path|dir|name|type|endpoint|id|length|len|size|ttl|expiry|expires|timeout|header|prefix|count|enabled|version|format|kind|mode|method|algorithm|alg|location|source|provider|usage|scope|audience|issuer|label|hint|policy|regex|pattern|field|param|env|var|ref|arn|hash|digest)$|tokeni[sz]er|(?:public|pub|primary|sort|partition|cache|foreign|hash|lookup|group|idempotency|routing|shard)[_.-]?key$/i;
// camelCase forms of the same, which need case to tell `masterKey` from `monkey`.
const SECRET_CAMEL = /[a-z0-9](?:Secret|Token|Password|Passwd|Pwd|Key|Credential|Credentials)$/;
const NOT_SECRET_CAMEL =
  /[a-z0-9](?:Url|Uri|File|Path|Dir|Name|Type|Endpoint|Id|Length|Size|Ttl|Header|Prefix|Count|Version|Format|Kind|Mode|Field|Param|Ref|Hash)$|(?:public|primary|sort|partition|cache|foreign|hash|lookup|group|idempotency|routing)Key$/;
/** Names that clearly hold a secret: their values are judged from 8 characters on. */
const STRONG_NAME =
  /passw|pwd|secret|token|credential|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|auth[_.-]?key|(?:^|[_.-])pass$/i;

/** Whether an assignment's name says it holds a secret. */
export function isSecretName(name: string): boolean {
  return (
    (SECRET_WORD.test(name) || SECRET_CAMEL.test(name)) &&
    !NOT_SECRET_SUFFIX.test(name) &&
    !NOT_SECRET_CAMEL.test(name)
  );
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
// Letters, digits, `_`, `.`, `-`, and `$` (PHP variables; stripped from the name's start).
const isNameChar = (c: number) => isLetter(c) || isDigit(c) || c === 95 || c === 46 || c === 45 || c === 36;
const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const QUOTES = '"\'`';
const isQuote = (c: string | undefined): c is string =>
  c !== undefined && c.length === 1 && QUOTES.includes(c);
/** Ends an unquoted value. */
const UNQUOTED_END = new Set([...' \t\n\r\v\f"\'`,;(){}[]<>\\&']);

/** Types between a name and its `=`: Go `var token string = …`, Kotlin `val token: String = …`. */
const TYPE_ANNOTATION = /^(?::[ \t]*)?(?:string|String|str|\[\]byte|char|const)[ \t]*(?=[=:])/;
const OPERATORS = [':::=', '::=', ':=', '?=', '.=', '+=', '=>', '=', ':', ','] as const;

/** Whether the line holds only `ENV ` or `ARG ` (and blanks) before `start`. */
function dockerDirectiveBefore(text: string, start: number): boolean {
  let i = start;
  if (!isBlank(text[i - 1])) return false;
  while (isBlank(text[i - 1])) i -= 1;
  const word = text.slice(i - 3, i);
  if (word !== 'ENV' && word !== 'ARG') return false;
  i -= 3;
  while (isBlank(text[i - 1])) i -= 1;
  return i === 0 || isBreak(text[i - 1]);
}

function operatorAt(text: string, i: number): string | undefined {
  for (const op of OPERATORS) {
    if (!text.startsWith(op, i)) continue;
    const next = text[i + op.length];
    // `==`, `===`, `::` (a scope), `=~`: comparisons and paths, not assignments.
    if (op === '=' && (next === '=' || next === '~')) return undefined;
    if (op === ':' && next === ':') return undefined;
    return op;
  }
  return undefined;
}

/** The value that starts at `i` (after the operator and blanks), and where it starts. */
function valueAt(text: string, i: number, xml: boolean): { start: number; value: string } | undefined {
  if (xml) {
    let end = i;
    while (end < text.length && end - i <= MAX_VALUE && text[end] !== '<' && !isBreak(text[end])) end += 1;
    if (text[end] !== '<' || text[end + 1] !== '/') return undefined;
    const value = text.slice(i, end);
    return /\s/.test(value) ? undefined : { start: i, value };
  }
  const quote = isQuote(text[i]) ? text[i] : undefined;
  if (quote) {
    let end = i + 1;
    while (end < text.length && end - i <= MAX_VALUE + 1) {
      const c = text[end];
      if (c === quote || c === '\\' || isBreak(c)) break;
      end += 1;
    }
    const value = text.slice(i + 1, end);
    // A quoted sentence is prose, not a credential.
    return /\s/.test(value) ? undefined : { start: i + 1, value };
  }
  let end = i;
  while (end < text.length && end - i <= MAX_VALUE && !UNQUOTED_END.has(text[end])) end += 1;
  // `token = getToken()`: a call, not a value.
  if (text[end] === '(') return undefined;
  return { start: i, value: text.slice(i, end) };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const WORDS = /[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+/g;
/** A bundler's rename suffix (`hasOwnProperty$1`): not part of the words. */
const RENAME_SUFFIX = /\$\d*$/;
/** Share of an identifier's letters that must be in words of three letters or more with a vowel. */
const WORD_LETTERS = 0.6;

/**
 * An identifier made of words (`configService`, `NodePath_context`, `ArrowToken$1`,
 * `base64ToUint8Array`), not a random string (`yTbCDikPoM`, `lWZ9OBQ7GM`,
 * `KLIMLeYRWLFXqQZCWi9ms6AoxqIpOggM`): at most one of its words is a single letter, and it reads
 * as words (readsAsWords). Counting single letters alone let one random base62 string in 28 pass
 * as words: case flips there split it into two- and three-letter pieces, rarely into single
 * letters. `loose`: single letters only, for the parts of a dotted name (`exports.UserPKCS12`),
 * whose dots already say code.
 */
function isWordyIdentifier(value: string, loose = false): boolean {
  if (!IDENTIFIER.test(value)) return false;
  const name = value.replace(RENAME_SUFFIX, '');
  let single = 0;
  for (const word of name.match(WORDS) ?? [])
    if (word.length === 1 && !isDigit(word.charCodeAt(0))) single += 1;
  if (single > 1) return false;
  if (loose) return true;
  // snake_case: its short parts are abbreviations (`id_pkcs9_at_dateOfBirth`); a long part must
  // read as words on its own, as a base64url secret's pieces between its `_`s do not.
  if (name.includes('_')) return name.split('_').every((part) => part.length < 8 || readsAsWords(part));
  return readsAsWords(name);
}

/**
 * Most letters (WORD_LETTERS) in pronounceable words (three letters or more, with a vowel), and at
 * most two runs of digits (`sha256Hash`, `Http2ServerHttp2`).
 */
function readsAsWords(name: string): boolean {
  let letters = 0;
  let inWords = 0;
  let digitRuns = 0;
  for (const word of name.match(WORDS) ?? []) {
    if (isDigit(word.charCodeAt(0))) digitRuns += 1;
    else {
      letters += word.length;
      if (word.length >= 3 && /[aeiouy]/i.test(word)) inWords += word.length;
    }
  }
  return digitRuns <= 2 && inWords >= WORD_LETTERS * letters;
}
const VERSION = /^v?\d+(?:\.\d+)+(?:[-+][\w.-]*)?$/;
const MAVEN_COORDINATE = /^[A-Za-z][\w.-]*(?::[\w.-]+){2,}$/;
/** Code, not a value: keywords, calls, operators, quotes inside, chained assignments (`a=b=c`). */
const CODE_VALUE =
  /^(?:function|new|await|async|class|require|import|lambda|null|undefined|None|nil|true|false|this|self|typeof|void)\b|\?\?|\|\||&&|=>|\(|\)|["'`]|=[^=]/;
const REFERENCE_START = /^(?:[/~]|\.\.?\/|\$[A-Za-z_{(]|%[A-Za-z_(]|@[A-Za-z]|#\{|&[A-Za-z])/;

/** `process.env.TOKEN`, `settings.API_KEY`, `os.environ`: every part a word, not a random string. */
function isDottedReference(value: string): boolean {
  const parts = value.split('.');
  return parts.length > 1 && parts.every((p) => p.length > 0 && p.length <= 40 && isWordyIdentifier(p, true));
}

function classes(value: string): { lower: boolean; upper: boolean; digit: boolean; symbol: boolean } {
  return {
    lower: /[a-z]/.test(value),
    upper: /[A-Z]/.test(value),
    digit: /[0-9]/.test(value),
    symbol: /[^A-Za-z0-9]/.test(value),
  };
}

/** Whether a value of at least 16 characters looks generated rather than written. */
function looksRandom(value: string): boolean {
  const c = classes(value);
  const h = shannonEntropy(value);
  if (/^[0-9a-f]+$/i.test(value)) return value.length >= 16 && c.digit && h >= 3;
  if (c.digit && (c.lower || c.upper)) return h >= 3.5;
  // Letters only (or letters and symbols): mixed case and high entropy, as base62 without digits.
  return value.length >= 24 && c.lower && c.upper && h >= 4;
}

/** Whether a short value (8 to 15 characters) assigned to a clearly secret name is a credential. */
function looksLikePassword(value: string): boolean {
  const c = classes(value);
  if (!(c.lower || c.upper)) return false;
  const kinds = [c.lower, c.upper, c.digit, c.symbol].filter(Boolean).length;
  // A digit or a symbol other than `_`: `DEFAULT_SECRET_VALUE` is a constant's name.
  return (c.digit || /[^A-Za-z0-9_]/.test(value)) && kinds >= 2 && shannonEntropy(value) >= 2.5;
}

const LETTERS_ONLY = /^[A-Za-z_]+$/;
const ONE_CASE = /^[a-z_]+$|^[A-Z_]+$/;

/**
 * Words that make a value an example of itself (`password: 'secret123'`, `'mock-api-key-123'`):
 * this rule's stopwords. A generated token holds one by chance about once in a million.
 */
const STOPWORDS = /secret|passw|token|mock|test|demo|sample|example|dummy|fake|default|value|invalid/i;

/**
 * Whether `value`, assigned to `name`, is reported. `literal`: the value is quoted, or its name
 * starts the line (`.env`, YAML, INI): an unquoted value elsewhere (`type A = B$1;`,
 * `?token=…` in a URL) is a reference or a parameter, judged only when it is long and random.
 */
export function judgeAssignedValue(name: string, value: string, literal = true): boolean {
  const strong = STRONG_NAME.test(name) && literal;
  if (value.length < (strong ? MIN_SHORT_VALUE : MIN_VALUE) || value.length > MAX_VALUE) return false;
  // Neither random (looksRandom) nor a password (looksLikePassword) without a digit or a symbol
  // other than `_` and, for letters alone, without 24 of them in both cases: most values in code
  // (`token: token`, `key: keyName`) end here, before the costlier tests below.
  if (LETTERS_ONLY.test(value) && (value.length < 24 || ONE_CASE.test(value))) return false;
  if (REFERENCE_START.test(value) || value.includes('://') || value.includes('${') || value.includes('{{'))
    return false;
  if (isPlaceholder(value) || isDottedReference(value) || VERSION.test(value) || MAVEN_COORDINATE.test(value))
    return false;
  if (STOPWORDS.test(value) || isWordyIdentifier(value) || CODE_VALUE.test(value)) return false;
  if (value.length >= MIN_VALUE && looksRandom(value)) return true;
  return strong && value.length < 64 && looksLikePassword(value);
}

/** The assignments of the rule in `text`, without the hint-word gate. */
export function assignmentsIn(text: string): EntropyMatch[] {
  const found: EntropyMatch[] = [];
  let nameEnd = -1;
  HINT.lastIndex = 0;
  for (let m = HINT.exec(text); m; m = HINT.exec(text)) {
    // A hint inside a name already read (`secret_token`) is that name.
    if (m.index < nameEnd) continue;
    let start = m.index;
    while (start > 0 && m.index - start < MAX_NAME && isNameChar(text.charCodeAt(start - 1))) start -= 1;
    let end = m.index + m[0].length;
    while (end < text.length && end - start < MAX_NAME && isNameChar(text.charCodeAt(end))) end += 1;
    nameEnd = end;
    // A name longer than MAX_NAME: part of a longer run (base64, minified code), not a name.
    if (
      (start > 0 && isNameChar(text.charCodeAt(start - 1))) ||
      (end < text.length && isNameChar(text.charCodeAt(end)))
    )
      continue;
    // Most hints are not followed by an assignment: a look at the next character comes first.
    if (!mayAssign(text, start, end)) continue;
    let first = start;
    while (first < end && !isLetter(text.charCodeAt(first))) first += 1;
    const name = text.slice(first, end);
    if (!name || !isSecretName(name)) continue;
    const match = assignmentAfter(text, start, end, name);
    if (match) found.push(match);
  }
  return found;
}

/**
 * Whether what follows a name could be an assignment: after an optional closing quote and blanks,
 * an operator's first character, `>` (an XML element), or a letter (a type, Docker's `ENV NAME value`).
 */
function mayAssign(text: string, start: number, end: number): boolean {
  let i = end;
  if (isQuote(text[i])) i += 1;
  while (isBlank(text[i])) i += 1;
  const c = text[i];
  if (c === undefined) return false;
  if ('=:?.+,>'.includes(c)) return true;
  // `var token string = …`, `ENV TOKEN value`.
  return i > end && (TYPE_WORD.test(text.slice(i, i + 7)) || dockerDirectiveBefore(text, start));
}
const TYPE_WORD = /^(?:string|String|str|\[\]byte|char|const)/;

/** The value assigned to the name at `[start, end)`, if the syntax after it is an assignment. */
function assignmentAfter(text: string, start: number, end: number, name: string): EntropyMatch | undefined {
  const before = text[start - 1];
  let i = end;
  let quoted = false;
  if (isQuote(before) && text[i] === before) {
    quoted = true;
    i += 1;
  }
  // <apiToken>…</apiToken>
  if (before === '<' && text[i] === '>') {
    const v = valueAt(text, i + 1, true);
    return v && judgeAssignedValue(name, v.value, true) ? { index: v.start, value: v.value } : undefined;
  }
  while (isBlank(text[i])) i += 1;
  const typed = quoted ? null : TYPE_ANNOTATION.exec(text.slice(i, i + 24));
  if (typed) i += typed[0].length;
  let op = operatorAt(text, i);
  if (op === ',') {
    // `setProperty("X_TOKEN", "…")`, `define('TOKEN', '…')`: a quoted name that opens a call.
    let j = start - 2;
    while (isBlank(text[j])) j -= 1;
    if (!quoted || text[j] !== '(') return undefined;
  }
  if (op === undefined) {
    // Dockerfile `ENV NAME value`.
    if (!isBlank(text[end]) || !dockerDirectiveBefore(text, start)) return undefined;
    op = ' ';
  } else i += op.length;
  while (isBlank(text[i])) i += 1;
  const v = valueAt(text, i, false);
  if (!v) return undefined;
  // The quoted name's value must be quoted too in a call (`"X_TOKEN", SOME_CONSTANT` is not a value).
  if (op === ',' && !isQuote(text[v.start - 1])) return undefined;
  const literal = isQuote(text[v.start - 1]) || nameStartsLine(text, start);
  return judgeAssignedValue(name, v.value, literal) ? { index: v.start, value: v.value } : undefined;
}

/**
 * Whether only blanks, `export `, `ENV `, `ARG `, `set ` or a list's `- ` come before the name on
 * its line (or after a `;`, a brace or a bracket).
 */
function nameStartsLine(text: string, start: number): boolean {
  let i = start;
  if (isQuote(text[i - 1])) i -= 1;
  while (isBlank(text[i - 1])) i -= 1;
  for (const word of ['export', 'ENV', 'ARG', 'set', '-']) {
    if (
      text.slice(i - word.length, i) === word &&
      (i - word.length === 0 || /[\s]/.test(text[i - word.length - 1]))
    ) {
      i -= word.length;
      while (isBlank(text[i - 1])) i -= 1;
      break;
    }
  }
  return i === 0 || isBreak(text[i - 1]);
}

/** Secret values assigned to secret names (see the top of this file). */
export function findHighEntropyAssignments(content: string): EntropyMatch[] {
  return HINT_ONE.test(content) ? assignmentsIn(content) : [];
}

export interface EntropySpanMatch {
  /** 1-based line number. */
  line: number;
  value: string;
}

const NEWLINE = 0x0a;

/**
 * `findHighEntropyAssignments` on the UTF-8 text of `bytes`, reading only the given spans: `spans`
 * holds `[start, end)` byte offsets, in order, each starting after an ASSIGNMENT_BREAK (or at 0)
 * and ending at one (or at the end). Given spans that hold every hint word, it finds exactly what
 * the whole text gives: no reported assignment crosses a break (so what is found in a span is
 * what the whole text gives there, and the name grown from a hint stays in its span), every
 * secret-looking name holds a hint word, and a break byte is that character in the text, so a
 * span's bytes decode to that piece of the text.
 */
export function findHighEntropyAssignmentsInSpans(
  bytes: Buffer,
  spans: readonly number[],
): EntropySpanMatch[] {
  const found: EntropySpanMatch[] = [];
  // Line numbers are counted only when something is found, which is rare.
  let counted = 0;
  let line = 1;
  for (let i = 0; i + 1 < spans.length; i += 2) {
    const [start, end] = [spans[i], spans[i + 1]];
    const text = bytes.toString('utf8', start, end);
    const matches = assignmentsIn(text);
    if (matches.length === 0) continue;
    for (
      let nl = bytes.indexOf(NEWLINE, counted);
      nl !== -1 && nl < start;
      nl = bytes.indexOf(NEWLINE, nl + 1)
    )
      line += 1;
    counted = start;
    for (const m of matches) found.push({ line: line + lineBreaksIn(text, m.index), value: m.value });
  }
  return found;
}

function lineBreaksIn(text: string, before: number): number {
  let count = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < before; nl = text.indexOf('\n', nl + 1)) count += 1;
  return count;
}
