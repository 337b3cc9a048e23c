// The fixed start every match of a token rule has, read off its RE2 pattern, as a test on bytes
// that runs before RE2 does. A token rule's prefix turns up often in base64 and source maps
// (`EAAC,` in a VLQ mapping is a Facebook token's prefix): about ten thousand of them in 40 MB of
// node_modules, each costing re2js a few microseconds to refuse. The head test refuses most of
// them in a few byte comparisons.
//
// Sound by construction: the head is a prefix of the token's pattern made only of literal ASCII
// characters, ASCII classes repeated a fixed number of times (the least a repeat allows) and
// groups of literal alternatives; anything else ends it (a shorter head tests less, never
// wrongly). Case-sensitive RE2 matches an ASCII character or class with that ASCII character
// only, and an ASCII character is one byte of UTF-8: a match that starts at the keyword starts
// with bytes the head accepts. Patterns with `(?i)` get no head (RE2 folds `k` to the Kelvin
// sign). RE2 still decides every finding.

/** One element of a head: a set of ASCII bytes (one byte), or literal alternatives. */
export type HeadElement = { set: Uint8Array } | { oneOf: readonly Buffer[] };

/** What a token rule's pattern starts with (provider-rules.ts' `token`): the boundary before the token. */
const TOKEN_BOUNDARY = '(?:^|[^A-Za-z0-9_])(';

/** Punctuation an escape stands for literally in RE2. */
const ESCAPED_LITERAL = /[\\.\-/+=_~:*?()[\]{}|^$]/;

/**
 * The head of a token rule's pattern (its capture group, where the token starts at its keyword);
 * empty when nothing can be read off it.
 */
export function tokenHead(pattern: string): HeadElement[] {
  if (!pattern.startsWith(TOKEN_BOUNDARY)) return [];
  const body = pattern.slice(TOKEN_BOUNDARY.length);
  const close = groupEnd(body, 0);
  if (close === -1 || hasTopLevelBar(body.slice(0, close))) return [];
  return readHead(body.slice(0, close));
}

/** Index of the `)` closing a group whose content starts at `from`, or -1. */
function groupEnd(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i += 1;
    else if (c === '[') {
      const end = classEnd(s, i);
      if (end === -1) return -1;
      i = end;
    } else if (c === '(') depth += 1;
    else if (c === ')') {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  return -1;
}

/** Index of the `]` closing the class opening at `open`, or -1. */
function classEnd(s: string, open: number): number {
  let i = open + 1;
  if (s[i] === '^') i += 1;
  if (s[i] === ']') i += 1;
  for (; i < s.length; i++) {
    if (s[i] === '\\') i += 1;
    else if (s[i] === '[') return -1;
    else if (s[i] === ']') return i;
  }
  return -1;
}

function hasTopLevelBar(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i += 1;
    else if (c === '[') i = classEnd(s, i);
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === '|' && depth === 0) return true;
    if (i === -1) return true;
  }
  return false;
}

const setOf = (...codes: number[]) => {
  const set = new Uint8Array(128);
  for (const c of codes) set[c] = 1;
  return set;
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const DIGITS = range(48, 57);
const WORD = [...DIGITS, ...range(65, 90), ...range(97, 122), 95];

/** The byte set of a class's content (`[...]` without brackets), or undefined when not plain ASCII. */
function classSet(content: string): Uint8Array | undefined {
  if (content.startsWith('^') || content.includes('[:')) return undefined;
  const codes: number[] = [];
  let previous: number | undefined;
  for (let i = 0; i < content.length; i++) {
    let c = content[i];
    if (c === '\\') {
      c = content[++i];
      if (c === 'w' || c === 'd') {
        codes.push(...(c === 'w' ? WORD : DIGITS));
        previous = undefined;
        continue;
      }
      if (c === undefined || !ESCAPED_LITERAL.test(c)) return undefined;
    } else if (c === '-' && previous !== undefined && i + 1 < content.length) {
      const to = content[i + 1];
      if (to === '\\' || to.charCodeAt(0) > 0x7e) return undefined;
      codes.push(...range(previous, to.charCodeAt(0)));
      i += 1;
      previous = undefined;
      continue;
    }
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return undefined;
    codes.push(code);
    previous = code;
  }
  return codes.length > 0 ? setOf(...codes) : undefined;
}

/** A group's literal alternatives (`(?:EAAA|sq0atp-)`), or undefined. */
function literalAlternatives(content: string): Buffer[] | undefined {
  if (!content.startsWith('?:')) return undefined;
  const options: Buffer[] = [];
  for (const option of content.slice(2).split('|')) {
    let text = '';
    for (let i = 0; i < option.length; i++) {
      let c = option[i];
      if (c === '\\') {
        c = option[++i];
        if (c === undefined || !ESCAPED_LITERAL.test(c)) return undefined;
      } else if (/[[\](){}*+?.^$]/.test(c)) return undefined;
      if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e) return undefined;
      text += c;
    }
    if (text === '') return undefined;
    options.push(Buffer.from(text, 'latin1'));
  }
  return options;
}

/** Elements read from the start of `s` until something is not fixed. */
function readHead(s: string): HeadElement[] {
  const head: HeadElement[] = [];
  let i = 0;
  while (i < s.length) {
    let element: HeadElement | undefined;
    const c = s[i];
    if (c === '[') {
      const end = classEnd(s, i);
      const set = end === -1 ? undefined : classSet(s.slice(i + 1, end));
      if (!set) break;
      element = { set };
      i = end + 1;
    } else if (c === '(') {
      const end = groupEnd(s, i + 1);
      const oneOf = end === -1 ? undefined : literalAlternatives(s.slice(i + 1, end));
      if (!oneOf) break;
      element = { oneOf };
      i = end + 1;
    } else if (c === '\\') {
      const e = s[i + 1];
      if (e === 'w' || e === 'd') element = { set: setOf(...(e === 'w' ? WORD : DIGITS)) };
      else if (e !== undefined && ESCAPED_LITERAL.test(e)) element = { set: setOf(e.charCodeAt(0)) };
      else break;
      i += 2;
    } else if (/[|)*+?{.^$]/.test(c) || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e) break;
    else {
      element = { set: setOf(c.charCodeAt(0)) };
      i += 1;
    }
    // A repeat: its least count, and the head ends unless that count is all it allows.
    const repeat = /^(?:\{(\d+)(,\d*)?\}|([*+?]))/.exec(s.slice(i));
    if (!repeat) {
      head.push(element);
      continue;
    }
    const least = repeat[3] ? (repeat[3] === '+' ? 1 : 0) : Number(repeat[1]);
    if ('oneOf' in element && least > 1) break;
    for (let k = 0; k < least; k++) head.push(element);
    if (repeat[3] || repeat[2] !== undefined) break;
    i += repeat[0].length;
  }
  return head;
}

/** Whether `bytes` from `at` start with the head. */
export function headMatches(head: readonly HeadElement[], bytes: Uint8Array, at: number, from = 0): boolean {
  let pos = at;
  for (let e = from; e < head.length; e++) {
    const element = head[e];
    if ('set' in element) {
      const b = bytes[pos];
      if (b === undefined || b > 0x7f || element.set[b] === 0) return false;
      pos += 1;
      continue;
    }
    // Literal alternatives: try each, and the rest of the head after it.
    return element.oneOf.some(
      (option) =>
        option.every((b, k) => bytes[pos + k] === b) && headMatches(head, bytes, pos + option.length, e + 1),
    );
  }
  return true;
}
