// A token rule's head is a necessary condition of its RE2 pattern: wherever RE2 finds the token,
// the head accepts the bytes it starts at. Checked on every provider token rule with its sample
// token and with thousands of mutations of it, and on the shapes the head reader must refuse.
import { PROVIDER_RULE_SET } from './provider-rule-set';
import { type HeadElement, headMatches, tokenHead } from './token-head';
import { makeToken, seededRandom, TOKEN_SAMPLES } from '../../test/support/secret-samples';

const BOUNDARY = '(?:^|[^A-Za-z0-9_])';
const END = '(?:[^A-Za-z0-9_]|$)';
const pattern = (body: string) => `${BOUNDARY}(${body})${END}`;

/** A head written out: `[ab]` for a set, `(x|y)` for alternatives. */
function show(head: readonly HeadElement[]): string {
  return head
    .map((e) =>
      'set' in e
        ? `[${[...e.set].flatMap((v, b) => (v ? [String.fromCharCode(b)] : [])).join('')}]`
        : `(${e.oneOf.map((o) => o.toString('latin1')).join('|')})`,
    )
    .join('');
}

const at0 = (head: readonly HeadElement[], s: string) => headMatches(head, Buffer.from(s, 'latin1'), 0);

describe(tokenHead.name, () => {
  it('reads literals, classes at their least count and literal alternatives', () => {
    expect(show(tokenHead(pattern('ghp_[0-9a-c]{3}')))).toBe(
      '[g][h][p][_][0123456789abc][0123456789abc][0123456789abc]',
    );
    expect(show(tokenHead(pattern(String.raw`EAA[MC][a-c]{2,}x`)))).toBe('[E][A][A][CM][abc][abc]');
    expect(show(tokenHead(pattern(String.raw`(?:EAAA|sq0atp-)[\d]+`)))).toBe('(EAAA|sq0atp-)[0123456789]');
    expect(show(tokenHead(pattern(String.raw`hvs\.[\w-]{2}z`)))).toBe(
      `[h][v][s][.][${'-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'}][${'-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'}][z]`,
    );
    // Optional parts end the head before them.
    expect(show(tokenHead(pattern('ab?c')))).toBe('[a]');
    expect(show(tokenHead(pattern('ab*c')))).toBe('[a]');
  });

  it('reads nothing it cannot vouch for', () => {
    // Case folding (RE2 folds k to the Kelvin sign), alternatives at the top, odd starts.
    expect(tokenHead(pattern('(?i)xapp-[0-9]'))).toEqual([]);
    expect(tokenHead(pattern('abc|def'))).toEqual([]);
    expect(tokenHead('abc[0-9]{4}')).toEqual([]);
    // Negated classes, `.`, \s and groups that are not literal alternatives end the head.
    expect(show(tokenHead(pattern('ab[^x]c')))).toBe('[a][b]');
    expect(show(tokenHead(pattern('ab.c')))).toBe('[a][b]');
    expect(show(tokenHead(pattern(String.raw`ab\sc`)))).toBe('[a][b]');
    expect(show(tokenHead(pattern('ab(?:c[0-9]|d)e')))).toBe('[a][b]');
    expect(show(tokenHead(pattern('ab(?:c|d){2}e')))).toBe('[a][b]');
  });

  it('tests bytes: ASCII only, and every alternative with the rest of the head', () => {
    const head = tokenHead(pattern('(?:ab|a)[c]{2}'));
    expect(at0(head, 'abcc')).toBe(true);
    expect(at0(head, 'acc')).toBe(true);
    expect(at0(head, 'abc')).toBe(false);
    expect(at0(head, 'ac')).toBe(false);
    expect(headMatches(tokenHead(pattern('x[a-z]')), Buffer.from('xé'), 0)).toBe(false);
  });
});

describe('the provider token rules', () => {
  const tokenRules = PROVIDER_RULE_SET.filter((r) => r.spec.matchStartsAt === 'token');
  const random = seededRandom(31);
  const MUTATIONS = 'aZ09_-+/=.~: é\n';

  it('mostly have a head', () => {
    expect(tokenRules.filter((r) => r.head).length).toBeGreaterThan(tokenRules.length * 0.9);
  });

  it.each(tokenRules.filter((r) => r.head).map((r) => [r.ruleId, r] as const))(
    '%s: the head accepts wherever RE2 finds the token',
    (ruleId, rule) => {
      const sample = TOKEN_SAMPLES.find((s) => `provider/${s.rule}` === ruleId)!;
      const token = makeToken(sample, random);
      expect(at0(rule.head!, token)).toBe(true);
      const matcher = rule.regex!.matcher('');
      for (let n = 0; n < 300; n++) {
        // Change, drop or insert a few characters, or cut the token short.
        let t = token;
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const i = Math.floor(random() * t.length);
          const c = MUTATIONS[Math.floor(random() * MUTATIONS.length)];
          const what = random();
          t =
            what < 0.5
              ? t.slice(0, i) + c + t.slice(i + 1)
              : what < 0.8
                ? t.slice(0, i) + t.slice(i + 1)
                : t.slice(0, i) + c + t.slice(i);
        }
        if (random() < 0.1) t = t.slice(0, Math.floor(random() * t.length));
        const text = ` ${t}`;
        if (matcher.resetMatcherInput(text).lookingAt())
          expect([t, headMatches(rule.head!, Buffer.from(text), 1)]).toEqual([t, true]);
      }
    },
  );
});
