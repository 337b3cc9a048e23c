// Table rules read windows around their keywords, wherever the offsets come from: the pre-filter's
// automaton (one pass for all rules) or a plain search (the reference scan). Each case here goes
// through both and through runSecretRule alone, with rules written for the case.
import { compileSecretRules } from './secret-rule';
import {
  keywordOccurrences,
  ruleFile,
  ruleWindows,
  runSecretRule,
  WINDOW_AFTER,
  WINDOW_BEFORE,
} from './secret-rule-runner';
import { scanFileForSecrets } from './secret-scanner';

const LAYER = `sha256:${'d'.repeat(64)}`;

const RULES = compileSecretRules('acme', [
  // Found anywhere in a window around `acme_`.
  { id: 'window', description: 'acme token', regex: String.raw`acme_([a-z0-9]{20})\b`, keywords: ['acme_'] },
  // The token starts 10 characters before its keyword.
  {
    id: 'inside',
    description: 'token with a marker inside',
    regex: String.raw`\b([A-Za-z0-9]{10}\.inside\.[a-z0-9]{12})\b`,
    keywords: ['.inside.'],
  },
  // Keywords that overlap each other in `abcabcab`.
  {
    id: 'overlap',
    description: 'overlapping keywords',
    regex: String.raw`abcabc([0-9]{12})`,
    keywords: ['abcab', 'cabc'],
  },
  // The secret can lie far after the keyword.
  { id: 'far', description: 'far value', regex: 'farkey x*=([a-z0-9]{8})', keywords: ['farkey'] },
  // Keywords in any case (gitleaks's rule files say `keywords = ["Vendor"]`).
  {
    id: 'anycase',
    description: 'vendor key',
    regex: String.raw`(?i)vendor_key\s*=\s*([0-9a-f]{24})`,
    keywords: ['Vendor_Key'],
  },
]);

const rule = (id: string) => RULES.find((r) => r.ruleId === `acme/${id}`)!;

const token = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => 'k3m9q2x7w4z8p1r5'[(i * 7 + seed) % 16]).join('');

/** Findings with and without the pre-filter: they must agree; the planned ones are returned. */
async function scanBoth(content: string | Buffer, path = 'srv/app/settings.conf') {
  const file = { path, content };
  const planned = await scanFileForSecrets(file, LAYER, { extraRules: RULES });
  const reference = await scanFileForSecrets(file, LAYER, { extraRules: RULES, prefilter: false });
  expect(planned).toEqual(reference);
  return planned.filter((f) => f.rule.startsWith('acme/')).map((f) => ({ rule: f.rule, line: f.line }));
}

describe('table rules at their keywords', () => {
  it('finds a token whose match starts before its keyword, within WINDOW_BEFORE', async () => {
    const value = `${token(10, 1)}.inside.${token(12, 2)}`;
    expect(await scanBoth(`first line\nx = ${value}\n`)).toEqual([{ rule: 'acme/inside', line: 2 }]);
    expect(runSecretRule(rule('inside'), 'a', `x ${value}`).map((m) => m.secret)).toEqual([value]);
  });

  it('finds keywords that overlap, and each occurrence counts', () => {
    // abcab at 0 and 3, cabc at 2: [start, end) pairs.
    expect(keywordOccurrences(rule('overlap'), Buffer.from('abcabcab'))).toEqual([0, 5, 3, 8, 2, 6]);
    expect(runSecretRule(rule('overlap'), 'a', 'abcabc907263518493').map((m) => m.secret)).toEqual([
      '907263518493',
    ]);
  });

  it('matches keywords in any case unless the rule says otherwise', async () => {
    const key = token(24, 3).replace(/[^0-9a-f]/g, 'a');
    expect(await scanBoth(`# config\nVENDOR_KEY = ${key}\n`)).toEqual([{ rule: 'acme/anycase', line: 2 }]);
    expect(await scanBoth(`vEnDoR_kEy=${key}\n`)).toEqual([{ rule: 'acme/anycase', line: 1 }]);
  });

  it('reads from WINDOW_BEFORE bytes before a keyword to WINDOW_AFTER after it', () => {
    const r = rule('window');
    const size = 10_000;
    const at = [5000, 5005, 200, 205];
    expect(ruleWindows(r, size, at)).toEqual([
      0,
      205 + WINDOW_AFTER,
      5000 - WINDOW_BEFORE,
      5005 + WINDOW_AFTER,
    ]);
    // Windows that touch are read as one.
    expect(
      ruleWindows(r, size, [
        1000,
        1005,
        1000 + WINDOW_AFTER + WINDOW_BEFORE,
        1005 + WINDOW_AFTER + WINDOW_BEFORE,
      ]),
    ).toEqual([1000 - WINDOW_BEFORE, 1005 + WINDOW_AFTER + WINDOW_BEFORE + WINDOW_AFTER]);
  });

  it('sees a match that ends at the edge of its window, and not one that ends past it', async () => {
    const value = token(8, 4);
    // The window ends WINDOW_AFTER bytes after the keyword `farkey`: ` `, the x's, `=`, 8 characters.
    const fits = WINDOW_AFTER - 10;
    expect(await scanBoth(`top\nfarkey ${'x'.repeat(fits)}=${value}\n`)).toEqual([
      { rule: 'acme/far', line: 2 },
    ]);
    expect(await scanBoth(`top\nfarkey ${'x'.repeat(fits + 1)}=${value}\n`)).toEqual([]);
    // Two keywords further apart than a window: two windows, both tokens found, on their lines.
    const two = `acme_${token(20, 5)}\n${'x'.repeat(WINDOW_AFTER + WINDOW_BEFORE + 50)}\nacme_${token(20, 6)}\n`;
    expect(await scanBoth(two)).toEqual([
      { rule: 'acme/window', line: 1 },
      { rule: 'acme/window', line: 3 },
    ]);
  });

  it('finds keywords across the 64 KiB pieces the automaton reads, with the right lines', async () => {
    const secret = token(20, 6);
    const top = 'line\n'.repeat(100);
    for (let shift = -6; shift <= 1; shift++) {
      // `acme_` starts `shift` bytes from the end of the first piece.
      const content = `${top}${'z'.repeat(64 * 1024 + shift - top.length - 1)} acme_${secret} end\n`;
      expect([shift, await scanBoth(content)]).toEqual([shift, [{ rule: 'acme/window', line: 101 }]]);
    }
  });

  it('counts lines in bytes: text before a keyword that is not ASCII', async () => {
    const content = `é ü ✓ 🙂\n${'ß'.repeat(300)}\nacme_${token(20, 7)}\n`;
    expect(await scanBoth(content)).toEqual([{ rule: 'acme/window', line: 3 }]);
  });

  it('runs the same with keyword offsets given in any order, repeated or not', () => {
    const r = rule('window');
    const text = `a acme_${token(20, 8)} b acme_${token(20, 9)}`;
    const file = ruleFile(text);
    const at = keywordOccurrences(r, file.bytes);
    const expected = runSecretRule(r, 'a', file, at);
    expect(expected).toHaveLength(2);
    const shuffled = [at[2], at[3], at[0], at[1], at[2], at[3]];
    expect(runSecretRule(r, 'a', ruleFile(text), shuffled)).toEqual(expected);
  });
});
