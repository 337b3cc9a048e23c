import { chainHash, chainHashReference, type ChainedEventFields } from './audit-chain';
import { canonicalJson, canonicalJsonOfParsed } from './canonical-hash';

const samples: unknown[] = [
  null,
  true,
  0,
  -0,
  1e21,
  1.5e-7,
  123.456,
  'plain',
  'quote " backslash \\ control \u0001 tab \t',
  'é 𝄞 \u2028',
  [],
  {},
  [1, 'a', null, { b: 2, a: [3, { z: 1, y: [] }] }],
  { b: 1, a: 2, A: 3, _: 4, '€': 5, '\ud83d\ude00': 6, aa: { nested: true } },
  { skipped: undefined, kept: 1, list: [undefined, 2] },
  JSON.parse('{"k":{"x":[1,2,{"y":"z"}],"é":"accent","10":1,"9":2}}'),
];

describe(canonicalJsonOfParsed.name, () => {
  it.each(samples.map((s) => [JSON.stringify(s) ?? 'undefined', s]))(
    'matches the general canonical form for %s',
    (_name, value) => {
      expect(canonicalJsonOfParsed(value)).toBe(canonicalJson(value));
    },
  );

  it('refuses what RFC 8785 refuses', () => {
    expect(() => canonicalJsonOfParsed(Number.NaN)).toThrow();
    expect(() => canonicalJsonOfParsed({ k: '\ud800' })).toThrow();
  });
});

describe(chainHash.name, () => {
  const event = (details: Record<string, unknown>): ChainedEventFields => ({
    seq: '42',
    occurredAt: '2026-01-01T00:00:00.123Z',
    actor: { kind: 'human', issuer: 'https://idp.example.com/"x"', subject: 'grace' },
    action: 'promotion.approved',
    subjectType: 'promotion',
    subjectId: 'p-1',
    details,
  });

  it.each(samples.filter((s) => typeof s === 'object' && s !== null && !Array.isArray(s)).map((s) => [s]))(
    'hashes the same bytes as the reference form (%j)',
    (details) => {
      const e = event(details as Record<string, unknown>);
      expect(chainHash(e, 'a'.repeat(64))).toBe(chainHashReference(e, 'a'.repeat(64)));
    },
  );

  it('ignores extra members of a link (only the hashed fields count)', () => {
    const e = { ...event({ a: 1 }), prevHash: 'x', hash: 'y', extra: 1 };
    expect(chainHash(e, 'b'.repeat(64))).toBe(chainHashReference(event({ a: 1 }), 'b'.repeat(64)));
  });
});
