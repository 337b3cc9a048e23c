import { generateKeyPairSync } from 'node:crypto';
import { generateTestKeyPair } from '../../test/support/sigstore';
import {
  attestationsSectionProblems,
  compileAnchoredPattern,
  compileValue,
  signaturesSectionProblems,
  TrustPolicyProblemCode,
} from './trust-policy';

describe('trust policy', () => {
  const pem = generateTestKeyPair().publicKeyPem;
  const issuer = 'https://token.actions.githubusercontent.com';

  describe(signaturesSectionProblems.name, () => {
    it.each<[string, unknown]>([
      ['a key', { keys: [{ name: 'release', publicKey: pem }] }],
      [
        'an exact identity',
        {
          identities: [
            { issuer, subject: 'https://github.com/org/app/.github/workflows/r.yml@refs/heads/main' },
          ],
        },
      ],
      [
        'an anchored identity pattern',
        {
          identities: [{ issuer, subjectRegExp: '^https://github\\.com/org/[^/]+/\\.github/workflows/.+$' }],
        },
      ],
      [
        'everything',
        {
          keys: [{ name: 'a', publicKey: pem }],
          identities: [{ issuer, subject: 'x' }],
          minimum: 2,
          transparencyLog: 'optional',
        },
      ],
    ])('accepts %s', (_name, section) => {
      expect(signaturesSectionProblems(section)).toEqual([]);
    });

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    it.each<[string, unknown, TrustPolicyProblemCode, string]>([
      [
        'an unanchored pattern',
        { identities: [{ issuer, subjectRegExp: 'https://github\\.com/org/app' }] },
        TrustPolicyProblemCode.UnanchoredPattern,
        '/signatures/identities/0/subjectRegExp',
      ],
      [
        'a pattern anchored only at the start',
        { identities: [{ issuer, subjectRegExp: '^https://github\\.com/org/app' }] },
        TrustPolicyProblemCode.UnanchoredPattern,
        '/signatures/identities/0/subjectRegExp',
      ],
      [
        'a pattern ending with an escaped $',
        { identities: [{ issuer, subjectRegExp: '^https://x\\$' }] },
        TrustPolicyProblemCode.UnanchoredPattern,
        '/signatures/identities/0/subjectRegExp',
      ],
      [
        'a pattern RE2 cannot compile (backreference)',
        { identities: [{ issuer, subjectRegExp: '^(a)\\1$' }] },
        TrustPolicyProblemCode.InvalidPattern,
        '/signatures/identities/0/subjectRegExp',
      ],
      [
        'a pattern RE2 cannot compile (lookahead)',
        { identities: [{ issuer, subjectRegExp: '^(?=a).*$' }] },
        TrustPolicyProblemCode.InvalidPattern,
        '/signatures/identities/0/subjectRegExp',
      ],
      [
        'an issuer without a subject',
        { identities: [{ issuer }] },
        TrustPolicyProblemCode.Schema,
        '/signatures/identities/0',
      ],
      [
        'both subject and subjectRegExp',
        { identities: [{ issuer, subject: 'a', subjectRegExp: '^a$' }] },
        TrustPolicyProblemCode.Schema,
        '/signatures/identities/0',
      ],
      ['neither keys nor identities', { minimum: 1 }, TrustPolicyProblemCode.Schema, '/signatures'],
      [
        'an unknown field',
        { keys: [{ name: 'a', publicKey: pem }], trustEveryone: true },
        TrustPolicyProblemCode.Schema,
        '/signatures',
      ],
      [
        'a key that is not PEM',
        { keys: [{ name: 'a', publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }] },
        TrustPolicyProblemCode.InvalidKey,
        '/signatures/keys/0/publicKey',
      ],
      [
        'an RSA key',
        { keys: [{ name: 'a', publicKey: rsa }] },
        TrustPolicyProblemCode.InvalidKey,
        '/signatures/keys/0/publicKey',
      ],
      [
        'two keys with one name',
        {
          keys: [
            { name: 'a', publicKey: pem },
            { name: 'a', publicKey: pem },
          ],
        },
        TrustPolicyProblemCode.DuplicateName,
        '/signatures/keys/1/name',
      ],
      [
        'a minimum of 0',
        { keys: [{ name: 'a', publicKey: pem }], minimum: 0 },
        TrustPolicyProblemCode.Schema,
        '/signatures/minimum',
      ],
      [
        'an unknown log requirement',
        { keys: [{ name: 'a', publicKey: pem }], transparencyLog: 'never' },
        TrustPolicyProblemCode.Schema,
        '/signatures/transparencyLog',
      ],
    ])('refuses %s', (_name, section, code, path) => {
      const problems = signaturesSectionProblems(section);
      expect(problems).toEqual(expect.arrayContaining([expect.objectContaining({ code, path })]));
    });
  });

  describe(attestationsSectionProblems.name, () => {
    it('accepts exact values and anchored patterns', () => {
      expect(
        attestationsSectionProblems({
          provenance: {
            required: true,
            builderIds: [
              'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0',
            ],
            sourceRepositories: ['https://github.com/org/app', '^https://github\\.com/org/[a-z-]+$'],
            sourceRefs: ['refs/heads/main', '^refs/tags/v.+$'],
          },
          sbom: { required: true, formats: ['spdx', 'cyclonedx'] },
        }),
      ).toEqual([]);
    });

    it.each<[string, unknown, TrustPolicyProblemCode, string]>([
      [
        'an unanchored-looking builder',
        { provenance: { required: true, builderIds: ['https://github.com/org/.*'] } },
        TrustPolicyProblemCode.UnanchoredPattern,
        '/attestations/provenance/builderIds/0',
      ],
      [
        'a pattern without a final $',
        { provenance: { required: true, sourceRefs: ['^refs/tags/'] } },
        TrustPolicyProblemCode.UnanchoredPattern,
        '/attestations/provenance/sourceRefs/0',
      ],
      [
        'an invalid pattern',
        { provenance: { required: true, sourceRepositories: ['^(x$'] } },
        TrustPolicyProblemCode.InvalidPattern,
        '/attestations/provenance/sourceRepositories/0',
      ],
      [
        'an unknown SBOM format',
        { sbom: { required: true, formats: ['swid'] } },
        TrustPolicyProblemCode.Schema,
        '/attestations/sbom/formats/0',
      ],
      [
        'provenance without required',
        { provenance: { builderIds: ['x'] } },
        TrustPolicyProblemCode.Schema,
        '/attestations/provenance',
      ],
    ])('refuses %s', (_name, section, code, path) => {
      expect(attestationsSectionProblems(section)).toEqual(
        expect.arrayContaining([expect.objectContaining({ code, path })]),
      );
    });
  });

  describe('patterns', () => {
    it('matches the whole value, whatever the alternation', () => {
      const compiled = compileAnchoredPattern('^a|b$');
      expect(compiled.ok && compiled.matcher.matches('b')).toBe(true);
      expect(compiled.ok && compiled.matcher.matches('xb')).toBe(false);
      expect(compiled.ok && compiled.matcher.matches('ax')).toBe(false);
    });

    it('runs in linear time on a pattern that backtracks catastrophically elsewhere', () => {
      const compiled = compileAnchoredPattern('^(a+)+$');
      const started = Date.now();
      expect(compiled.ok && compiled.matcher.matches(`${'a'.repeat(50_000)}!`)).toBe(false);
      // A complexity guard, not a speed goal: backtracking would take minutes, so the bound is loose.
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('treats a value without ^ as exact, dots included', () => {
      const compiled = compileValue('https://github.com/org/app');
      expect(compiled.ok && compiled.matcher.matches('https://github.com/org/app')).toBe(true);
      expect(compiled.ok && compiled.matcher.matches('https://githubXcom/org/app')).toBe(false);
    });
  });
});
