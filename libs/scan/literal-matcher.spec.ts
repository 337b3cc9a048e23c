import { WALKS } from './automaton-wasm';
import { LiteralMatcher } from './literal-matcher';

const bytes = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));

/** Every (literal, end) the matcher visits. */
function occurrences(matcher: LiteralMatcher, input: Buffer): [number, number][] {
  const seen: [number, number][] = [];
  matcher.scan(input, (literal, end) => seen.push([literal, end]));
  return seen;
}

/** The same by brute force: every position where each literal occurs, ordered by end. */
function bruteForce(literals: { text: string; ignoreCase?: boolean }[], input: Buffer): [number, number][] {
  const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const haystack = input.toString('latin1');
  const found: [number, number][] = [];
  literals.forEach(({ text, ignoreCase }, literal) => {
    const h = ignoreCase ? fold(haystack) : haystack;
    const n = ignoreCase ? fold(text) : text;
    for (let i = h.indexOf(n); i !== -1; i = h.indexOf(n, i + 1)) found.push([literal, i + n.length - 1]);
  });
  return found.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}

describe('LiteralMatcher', () => {
  it('finds overlapping literals and literals inside others', () => {
    const literals = [{ text: 'he' }, { text: 'she' }, { text: 'his' }, { text: 'hers' }];
    const matcher = new LiteralMatcher(literals);
    const input = bytes('ushers and his shed');
    expect(occurrences(matcher, input).sort((a, b) => a[1] - b[1] || a[0] - b[0])).toEqual(
      bruteForce(literals, input),
    );
    expect([...matcher.find(input)]).toEqual([1, 1, 1, 1]);
    expect([...matcher.find(bytes('hxe'))]).toEqual([0, 0, 0, 0]);
  });

  it('matches case-sensitive literals exactly and others in any case', () => {
    const matcher = new LiteralMatcher([
      { text: 'ghp_' },
      { text: 'Key', ignoreCase: true },
      { text: 'SG.' },
    ]);
    expect([...matcher.find(bytes('GHP_ sg. KEY'))]).toEqual([0, 1, 0]);
    expect([...matcher.find(bytes('ghp_ SG. kEy'))]).toEqual([1, 1, 1]);
    // A case-sensitive literal is still found when a folded look-alike overlaps it.
    expect([...matcher.find(bytes('GHghp_'))]).toEqual([1, 0, 0]);
  });

  it('sees literals at the edges and next to bytes that are not ASCII', () => {
    const matcher = new LiteralMatcher([{ text: 'AKIA' }, { text: '://' }]);
    expect([...matcher.find(bytes('AKIA'))]).toEqual([1, 0]);
    expect([...matcher.find(bytes([0xc3, 0xa9, 0x3a, 0x2f, 0x2f, 0xff]))]).toEqual([0, 1]);
    // Non-ASCII bytes never stand for an ASCII letter (0xc1 is not "A" with a case bit).
    expect([...matcher.find(bytes([0xc1, 0x4b, 0x49, 0x41]))]).toEqual([0, 0]);
    expect([...matcher.find(Buffer.alloc(0))]).toEqual([0, 0]);
  });

  it('agrees with a brute-force search on random input', () => {
    const literals = [
      { text: 'ab' },
      { text: 'abc', ignoreCase: true },
      { text: 'bca' },
      { text: 'CAB' },
      { text: 'a' },
      { text: 'b_c-' },
    ];
    const matcher = new LiteralMatcher(literals);
    const alphabet = bytes('abcABC_-\n');
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // Short inputs are read in one walk, longer ones in two (one per half).
    for (let run = 0; run < 400; run++) {
      const length = Math.floor(random() * (run % 2 ? 60 : 400));
      const input = Buffer.from(
        Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]),
      );
      const seen = occurrences(matcher, input);
      const ends = seen.map(([, end]) => end);
      expect(ends).toEqual([...ends].sort((a, b) => a - b));
      expect(seen.sort((a, b) => a[1] - b[1] || a[0] - b[0])).toEqual(bruteForce(literals, input));
    }
  });

  it('sees every literal across the edges of the parts that walks read at once', () => {
    const literals = [
      { text: 'x' },
      { text: 'ab' },
      { text: 'cdefghij' },
      { text: 'SECRET', ignoreCase: true },
    ];
    const matcher = new LiteralMatcher(literals);
    // Short inputs are read by one walk; longer ones by WALKS, one per part.
    for (const length of [40, 41, 100, 101, 102, 103, 1001]) {
      const part = length >> Math.log2(WALKS);
      for (let k = 1; k <= WALKS; k++) {
        const edge = k * part;
        for (const [index, { text }] of literals.entries()) {
          for (let end = edge - text.length - 2; end <= Math.min(length - 1, edge + text.length + 2); end++) {
            if (end + 1 - text.length < 0) continue;
            const input = Buffer.alloc(length, '.');
            input.write(text, end + 1 - text.length, 'latin1');
            expect([length, text, end, occurrences(matcher, input)]).toEqual([
              length,
              text,
              end,
              [[index, end]],
            ]);
          }
        }
      }
    }
  });

  it('carries its state across the 64 KiB pieces a long input is read in', () => {
    const literals = [{ text: 'x' }, { text: 'cdefghij' }, { text: 'SECRET', ignoreCase: true }];
    const matcher = new LiteralMatcher(literals);
    const chunk = 64 * 1024;
    for (const [index, { text }] of literals.entries())
      for (const edge of [chunk, 2 * chunk, 2 * chunk + (chunk >> 1)])
        for (let end = edge - text.length - 1; end <= edge + text.length; end++) {
          const input = Buffer.alloc(3 * chunk + 17, '.');
          input.write(text, end + 1 - text.length, 'latin1');
          expect([text, end, occurrences(matcher, input)]).toEqual([text, end, [[index, end]]]);
        }
    // Many hits in one piece, ordered across both walks and all pieces.
    const input = Buffer.alloc(3 * chunk + 5, 'x');
    const seen = occurrences(matcher, input);
    expect(seen).toHaveLength(input.length);
    expect(seen.every(([literal, end], i) => literal === 0 && end === i)).toBe(true);
  });

  it('refuses literals it cannot match against bytes', () => {
    expect(() => new LiteralMatcher([{ text: '' }])).toThrow(/printable ASCII/);
    expect(() => new LiteralMatcher([{ text: 'clé' }])).toThrow(/printable ASCII/);
    expect(() => new LiteralMatcher([{ text: 'a\nb' }])).toThrow(/printable ASCII/);
  });
});
