// Operators' rules in gitleaks's TOML format: read, checked at load (every problem, RE2 only), and
// run by the scan beside the built-in rules, with and without the pre-filter alike.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGitleaksRules, loadGitleaksRuleSets, parseGitleaksRules } from './gitleaks-rules';
import { type SecretRuleError } from './secret-rule';
import { pathFindings, scanFileForSecrets } from './secret-scanner';

const LAYER = `sha256:${'e'.repeat(64)}`;
const ACME = `
title = "acme rules"

[allowlist]
description = "vendored fixtures"
paths = ['''(?:^|/)testdata/''']

[[rules]]
id = "acme-internal-token"
description = "Acme internal service token"
regex = '''\\b(acme_[a-z0-9]{32})\\b'''
secretGroup = 1
entropy = 3
keywords = ["acme_"]

  [[rules.allowlists]]
  regexes = ['''acme_0{32}''']
  stopwords = ["deadbeef"]

[[rules]]
id = "acme-db-password"
regex = '''(?i)acme_db_pass(?:word)?\\s*[:=]\\s*"([^"]{8,})"'''
keywords = ["acme_db_pass"]

[[rules]]
id = "acme-keystore"
description = "Acme key store"
path = '''(?i)\\.acmekeys$'''
`;

const token = 'acme_' + 'k3v9x2m8q7w1z5r4t6y0p2n8b4c7d1f3'.slice(0, 32);

describe('gitleaks rule files', () => {
  const rules = compileGitleaksRules('acme', ACME);

  it('are read into rules named after their set', () => {
    expect(rules.map((r) => r.ruleId)).toEqual([
      'acme/acme-internal-token',
      'acme/acme-db-password',
      'acme/acme-keystore',
    ]);
  });

  it.each([true, false])('run beside the built-in rules (pre-filter %s)', async (prefilter) => {
    const content = `service:\n  token: ${token}\nacme_db_password = "Zq8!rT2#pL"\n`;
    const findings = await scanFileForSecrets({ path: 'srv/app.yaml', content }, LAYER, {
      extraRules: rules,
      prefilter,
    });
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['acme/acme-internal-token', 2],
      ['acme/acme-db-password', 3],
    ]);
    expect(findings[0].title).toBe('Acme internal service token');
  });

  it('apply their allowlists: the rule’s regexes and stopwords, the file’s paths', async () => {
    const scan = (path: string, content: string) =>
      scanFileForSecrets({ path, content }, LAYER, { extraRules: rules });
    expect(await scan('srv/a.txt', `acme_${'0'.repeat(32)}\n`)).toEqual([]);
    expect(await scan('srv/a.txt', `acme_deadbeef${'7k2m'.repeat(6)}\n`)).toEqual([]);
    expect(await scan('srv/testdata/a.txt', `${token}\n`)).toEqual([]);
    expect(await scan('srv/a.txt', `${token}\n`)).toHaveLength(1);
  });

  it('may find files by name alone', () => {
    expect(pathFindings('etc/prod.acmekeys', LAYER, { extraRules: rules }).map((f) => f.rule)).toEqual([
      'acme/acme-keystore',
    ]);
  });

  it('are refused with every problem named: RE2 only, known fields, no [extend]', () => {
    const bad = `
[extend]
useDefault = true

[[rules]]
id = "lookahead"
regex = '''secret(?=[0-9])'''
keywords = ["secret"]
severity = "high"

[[rules]]
id = "backref"
regex = '''(['"])[a-z]{8}\\1'''

[[rules]]
description = "no id"
regex = "x"
`;
    let error: unknown;
    try {
      compileGitleaksRules('bad', bad);
    } catch (e) {
      error = e;
    }
    const problems = (error as SecretRuleError).problems.join('\n');
    expect(problems).toContain('bad: [extend] is not supported');
    expect(problems).toContain('bad: rule "lookahead": unknown field "severity"');
    expect(problems).not.toContain('lookahead" regex');
  });

  it('report pattern problems once the fields are right', () => {
    expect(() =>
      compileGitleaksRules('bad', `[[rules]]\nid = "lookahead"\nregex = '''secret(?=[0-9])'''\n`),
    ).toThrow(/bad: rule "lookahead" regex: .*RE2 syntax/);
    expect(() => compileGitleaksRules('bad', `[[rules]]\nid = "b"\nregex = '''(a)\\1'''\n`)).toThrow(
      /rule "b" regex: .*backreferences/,
    );
    expect(() => compileGitleaksRules('bad', `[[rules]]\ndescription = "x"\nregex = "x"\n`)).toThrow(
      /id must match/,
    );
    expect(() => parseGitleaksRules('bad', 'rules = [')).toThrow(/bad: not valid TOML/);
  });

  it('are loaded from a folder, one set per file, refusing the folder if any file is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-rules-'));
    try {
      writeFileSync(join(dir, 'acme.toml'), ACME);
      writeFileSync(join(dir, 'README.md'), 'not a rule file');
      expect([...loadGitleaksRuleSets(dir).keys()]).toEqual(['acme']);
      writeFileSync(join(dir, 'broken.toml'), `[[rules]]\nid = "x"\nregex = '''(?<=a)b'''\n`);
      expect(() => loadGitleaksRuleSets(dir)).toThrow(/broken\.toml: broken: rule "x" regex/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
