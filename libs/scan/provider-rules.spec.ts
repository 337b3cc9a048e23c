// Each provider rule: its token is found (true positive) and the same shape filled with a
// placeholder is not (false positive), alone and through the whole scan; plus the near misses the
// issue names. Tokens are made at run time (test/support/secret-samples.ts).
import { PROVIDER_RULE_SET } from './provider-rule-set';
import { PROVIDER_RULES } from './provider-rules';
import { failsTokenChecksum, isPlaceholder, tokenChecksumHolds } from './secret-placeholders';
import { compileSecretRules, SecretRuleError } from './secret-rule';
import { keywordsIn, runSecretRule } from './secret-rule-runner';
import { pathFindings, scanFileForSecrets } from './secret-scanner';
import {
  makeToken,
  PKCS12_PATHS,
  placeholderToken,
  sampleLine,
  seededRandom,
  TOKEN_SAMPLES,
  withBadChecksum,
} from '../../test/support/secret-samples';

const LAYER = `sha256:${'c'.repeat(64)}`;
const random = seededRandom(17);
const samples = TOKEN_SAMPLES.map((sample) => {
  const token = makeToken(sample, random);
  return { sample, token, path: sample.path ?? 'srv/app/config.env' };
});
const ruleOf = (id: string) => PROVIDER_RULE_SET.find((r) => r.ruleId === `provider/${id}`)!;

describe('the provider rules', () => {
  it('all compile, and every rule but the name-only one has a sample', () => {
    // The scan compiles them on first use; here all at once, with every check.
    expect(compileSecretRules('provider', PROVIDER_RULES)).toHaveLength(PROVIDER_RULES.length);
    const sampled = new Set(TOKEN_SAMPLES.map((s) => s.rule));
    const missing = PROVIDER_RULES.filter((r) => r.regex && !sampled.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
    expect(TOKEN_SAMPLES.filter((s) => !PROVIDER_RULES.some((r) => r.id === s.rule))).toEqual([]);
  });

  it('have keywords that are printable ASCII, lower case unless they are case-sensitive', () => {
    for (const r of PROVIDER_RULES)
      for (const k of r.keywords ?? [])
        expect(k).toMatch(r.caseSensitiveKeywords ? /^[\x20-\x7e]+$/ : /^[\x20-\x40\x5b-\x7e]+$/);
  });

  describe.each(samples.map((s) => [s.sample.rule, s] as const))('%s', (id, { sample, token, path }) => {
    const rule = ruleOf(id);
    const line = sampleLine(sample, token);

    it('finds its token, and the match holds a keyword', () => {
      const found = runSecretRule(rule, path, `# settings\n${line}\n`);
      expect(found.map((f) => f.secret)).toContain(token);
      expect(keywordsIn(rule, line)).toBe(true);
    });

    it('does not report the placeholder of the same shape', () => {
      const fake = placeholderToken(sample);
      expect(runSecretRule(rule, path, `${sampleLine(sample, fake)}\n`)).toEqual([]);
    });

    it('is found by the scan, and the placeholder is not', async () => {
      const real = await scanFileForSecrets({ path, content: `# settings\n${line}\n` }, LAYER);
      expect(real.length).toBeGreaterThan(0);
      expect(real[0].line).toBe(2);
      const fake = await scanFileForSecrets(
        { path, content: `${sampleLine(sample, placeholderToken(sample))}\n` },
        LAYER,
      );
      expect(fake).toEqual([]);
    });
  });

  it('find PKCS#12 files by name', () => {
    for (const path of PKCS12_PATHS.found)
      expect(pathFindings(path, LAYER).map((f) => f.rule)).toEqual(['provider/pkcs12-file']);
    for (const path of PKCS12_PATHS.notFound) expect(pathFindings(path, LAYER)).toEqual([]);
  });
});

describe('near misses', () => {
  const github = samples.find((s) => s.sample.rule === 'github-pat')!.token;

  it('GitHub and npm tokens carry a CRC32 checksum: a made-up one is not a finding', async () => {
    expect(tokenChecksumHolds(github)).toBe(true);
    expect(failsTokenChecksum(withBadChecksum(github))).toBe(true);
    const bad = await scanFileForSecrets({ path: 'a.env', content: `X=${withBadChecksum(github)}\n` }, LAYER);
    expect(bad).toEqual([]);
  });

  it.each([
    ['GitHub placeholder', 'token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['AWS documentation key', 'aws_access_key_id = AKIAXXXXXXXXXXXXXXXX'],
    ['AWS example key', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
    ['Slack example', 'SLACK_TOKEN=xoxb-12345-67890-abcdefghijklmnopqrstuvwx'],
    ['Slack-looking word in an image URL', '<img src="https://cdn.example.net/img/xoxb-logo-512.png">'],
    ['Maven coordinate', '<secretKey>org.apache.maven.plugins:maven-gpg-plugin:3.1.0</secretKey>'],
    ['template', 'DATADOG_API_KEY=${DD_API_KEY}'],
    ['angle-bracket placeholder', 'TWITTER_API_SECRET=<your-twitter-api-secret>'],
    ['changeme', 'SNOWFLAKE_PASSWORD=changeme'],
  ])('%s', async (_, content) => {
    expect(await scanFileForSecrets({ path: 'srv/app/settings', content: `${content}\n` }, LAYER)).toEqual(
      [],
    );
  });

  it('placeholders by their words and shapes, not random tokens that happen to be long', () => {
    for (const p of [
      'xxxxxxxx',
      'XXXXXXXXXXXX',
      '1234567890',
      'your_api_key',
      '<token>',
      '${TOKEN}',
      '{{ .Values.token }}',
      'changeme',
      '00000000',
    ])
      expect(isPlaceholder(p)).toBe(true);
    for (const s of samples.filter((x) => x.token.length > 100)) expect(isPlaceholder(s.token)).toBe(false);
  });
});

describe(compileSecretRules.name, () => {
  it('reports every problem of a rule set at once, with RE2 and the rule named', () => {
    let error: unknown;
    try {
      compileSecretRules('acme', [
        { id: 'lookbehind', description: 'x', regex: '(?<=key=)[a-z]{8}', keywords: ['key'] },
        { id: 'backref', description: 'x', regex: '(a)\\1' },
        { id: 'backref', description: 'x', regex: 'ok' },
        { id: 'nothing', description: 'x' },
        { id: 'group', description: 'x', regex: 'a(b)', secretGroup: 2 },
        { id: 'keyword', description: 'x', regex: 'a', keywords: ['ключ'] },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecretRuleError);
    const problems = (error as SecretRuleError).problems.join('\n');
    expect(problems).toMatch(/acme: rule "lookbehind" regex: .*RE2/);
    expect(problems).toMatch(/rule "backref" regex: .*escape/);
    expect(problems).toMatch(/rule "backref": duplicate id/);
    expect(problems).toMatch(/rule "nothing": needs a regex, a path or both/);
    expect(problems).toMatch(/rule "group": secretGroup 2 but the regex has 1 groups/);
    expect(problems).toMatch(/rule "keyword" keyword 1: .* printable ASCII/);
  });
});
