import {
  bundleJson,
  cycloneDxSbom,
  generateTestKeyPair,
  GITHUB_BUILDER,
  GITHUB_ISSUER,
  inTotoStatement,
  keyDsseBundle,
  keyDsseEnvelope,
  MockSigstore,
  slsaProvenanceV02,
  slsaProvenanceV1,
  spdxSbom,
  testImage,
  WORKFLOW_IDENTITY,
} from '../../test/support/sigstore';
import { CheckStatus } from '../domain';
import {
  type AttestationContext,
  type AttestationInput,
  normalizeRepository,
  parseSourceUri,
  verifyAttestation,
  verifyAttestations,
} from './attestation.verifier';
import { TrustReason } from './trust-findings';
import { type AttestationsSection } from '../domain/trust-policy';

describe(verifyAttestation.name, () => {
  const builder = generateTestKeyPair();
  const other = generateTestKeyPair();
  const image = testImage('app');
  const anotherImage = testImage('other');
  const commit = 'c0ffee'.padEnd(40, '0');

  const policy: AttestationsSection = {
    provenance: {
      required: true,
      builderIds: [GITHUB_BUILDER],
      sourceRepositories: ['https://github.com/org/app'],
      sourceRefs: ['refs/heads/main', '^refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+$'],
    },
    sbom: { required: false },
  };
  const context = (overrides: Partial<AttestationContext> = {}): AttestationContext => ({
    digest: image.digest,
    trust: { policy: { keys: [{ name: 'builder', publicKey: builder.publicKeyPem }] } },
    policy,
    ciClaims: { repository: 'org/app', ref: 'refs/heads/main', sha: commit },
    ...overrides,
  });
  const envelope = (statement: Buffer, key = builder): AttestationInput => ({
    envelope: keyDsseEnvelope(statement, [key]),
  });
  const provenance = (o: Parameters<typeof slsaProvenanceV1>[1] = {}) =>
    slsaProvenanceV1(image.digest, { commit, ...o });

  let sigstore: MockSigstore;
  let keylessProvenance: object;
  let keylessAtt: { envelope: object; annotations: Record<string, string> };
  let keyBundle: object;

  beforeAll(async () => {
    sigstore = await MockSigstore.start();
    [keylessProvenance, keylessAtt, keyBundle] = await Promise.all([
      sigstore.dsseBundle(provenance(), WORKFLOW_IDENTITY).then(bundleJson),
      sigstore.keylessAttestationLayer(provenance(), WORKFLOW_IDENTITY),
      keyDsseBundle(provenance(), builder, 'builder'),
    ]);
  });
  afterAll(async () => {
    await sigstore?.close();
  });
  const keyless = (): AttestationContext =>
    context({
      trust: {
        policy: { identities: [{ issuer: GITHUB_ISSUER, subject: WORKFLOW_IDENTITY.sub }] },
        trustedRoot: sigstore.trustedRoot(),
      },
    });

  describe('accepts', () => {
    it.each<[string, () => AttestationInput, () => AttestationContext, string]>([
      [
        'SLSA v1 provenance in a key-signed DSSE envelope',
        () => envelope(provenance()),
        context,
        'provenance',
      ],
      ['SLSA v1 provenance in a key-based bundle', () => ({ bundle: keyBundle }), context, 'provenance'],
      [
        'SLSA v1 provenance in a keyless bundle with a Rekor entry',
        () => ({ bundle: keylessProvenance }),
        keyless,
        'provenance',
      ],
      [
        'SLSA v1 provenance in a keyless cosign .att layer (annotations)',
        () => keylessAtt,
        keyless,
        'provenance',
      ],
      [
        'a release tag matching an anchored ref pattern',
        () => envelope(provenance({ ref: 'refs/tags/v1.2.3' })),
        context,
        'provenance',
      ],
      [
        'SLSA v0.2 provenance (builder and configSource)',
        () => envelope(slsaProvenanceV02(image.digest, { commit })),
        context,
        'provenance',
      ],
      ['an SPDX SBOM', () => envelope(spdxSbom(image.digest)), context, 'sbom'],
      ['a CycloneDX SBOM', () => envelope(cycloneDxSbom(image.digest)), context, 'sbom'],
      [
        'an envelope with two signatures, one by a trusted key',
        () => ({ envelope: keyDsseEnvelope(provenance(), [other, builder]) }),
        context,
        'provenance',
      ],
    ])('%s', (_name, input, ctx, kind) => {
      const result = verifyAttestation(input(), ctx());
      const f = result.findings[0];
      expect(f).toMatchObject({
        counted: true,
        reason: TrustReason.Verified,
        signatureVerified: true,
        aboutArtifact: true,
        kind,
      });
      if (kind === 'provenance') {
        expect(f.provenance).toMatchObject({
          builderId: GITHUB_BUILDER,
          sourceRepository: 'https://github.com/org/app',
          sourceCommit: commit,
        });
      }
    });

    it('passes the check with verified provenance and a required SBOM', () => {
      const result = verifyAttestations(
        [
          envelope(provenance()),
          envelope(spdxSbom(image.digest)),
          envelope(inTotoStatement(image.digest, 'https://example.com/custom', { a: 1 })),
        ],
        context({ policy: { ...policy, sbom: { required: true, formats: ['spdx'] } } }),
      );
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings.map((f) => f.reason)).toEqual([
        TrustReason.Verified,
        TrustReason.Verified,
        TrustReason.WrongType,
      ]);
    });
  });

  describe('refuses', () => {
    it.each<[string, () => AttestationInput, () => AttestationContext, TrustReason]>([
      [
        'an attestation signed by an untrusted key',
        () => envelope(provenance(), other),
        context,
        TrustReason.WrongKey,
      ],
      [
        'an envelope whose payload was changed after signing',
        () => {
          const env = keyDsseEnvelope(provenance(), [builder], { keyid: () => 'builder' });
          return { envelope: { ...env, payload: provenance({ commit: 'f'.repeat(40) }).toString('base64') } };
        },
        context,
        TrustReason.TamperedPayload,
      ],
      [
        'an attestation about another digest',
        () => envelope(slsaProvenanceV1(anotherImage.digest, { commit })),
        context,
        TrustReason.SubjectMismatch,
      ],
      [
        'provenance from an untrusted builder',
        () => envelope(provenance({ builderId: 'https://evil.example/builder' })),
        context,
        TrustReason.UntrustedBuilder,
      ],
      [
        'provenance from another repository',
        () => envelope(provenance({ repository: 'https://github.com/org/app-fork' })),
        context,
        TrustReason.SourceMismatch,
      ],
      [
        'provenance from a ref the policy does not allow',
        () => envelope(provenance({ ref: 'refs/heads/feature' })),
        context,
        TrustReason.SourceMismatch,
      ],
      [
        'provenance whose commit differs from the CI claims',
        () => envelope(provenance({ commit: 'b'.repeat(40) })),
        context,
        TrustReason.CommitMismatch,
      ],
      [
        'a builder that matches only an unanchored pattern',
        () => envelope(provenance({ builderId: 'https://evil.example/?https://github.com/slsa-framework/' })),
        () =>
          context({
            policy: { provenance: { required: true, builderIds: ['https://github.com/slsa-framework/.*'] } },
          }),
        TrustReason.UntrustedBuilder,
      ],
      [
        'an SBOM in a format the policy does not accept',
        () => envelope(cycloneDxSbom(image.digest)),
        () => context({ policy: { sbom: { required: true, formats: ['spdx'] } } }),
        TrustReason.FormatNotAllowed,
      ],
      [
        'a keyless attestation from an identity the policy does not name',
        () => ({ bundle: keylessProvenance }),
        () =>
          context({
            trust: {
              policy: {
                identities: [
                  {
                    issuer: GITHUB_ISSUER,
                    subject: 'https://github.com/org/other/.github/workflows/x.yml@refs/heads/main',
                  },
                ],
              },
              trustedRoot: sigstore.trustedRoot(),
            },
          }),
        TrustReason.IdentityMismatch,
      ],
      [
        'a payload that is not an in-toto statement',
        () => ({ envelope: keyDsseEnvelope(Buffer.from('{}'), [builder], { payloadType: 'text/plain' }) }),
        context,
        TrustReason.Malformed,
      ],
    ])('%s', (_name, input, ctx, reason) => {
      const result = verifyAttestations([input()], ctx());
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings).toEqual([expect.objectContaining({ counted: false, reason })]);
    });

    it.each<[string, AttestationInput[], AttestationsSection, string]>([
      ['required provenance is missing', [], policy, 'no verified SLSA provenance'],
      [
        'required provenance only for another digest',
        [envelope(slsaProvenanceV1(anotherImage.digest, { commit }))],
        policy,
        'no verified SLSA provenance',
      ],
      [
        'provenance is required and only an SBOM is there',
        [envelope(spdxSbom(image.digest))],
        policy,
        'no verified SLSA provenance',
      ],
      ['a required SBOM is missing', [], { sbom: { required: true } }, 'no verified SBOM'],
    ])('fails the check when %s', (_name, inputs, section, message) => {
      const result = verifyAttestations(inputs, context({ policy: section }));
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.summary).toContain(message);
    });

    it('fails the check when a trusted provenance contradicts the policy, even next to a good one', () => {
      const result = verifyAttestations(
        [envelope(provenance()), envelope(provenance({ repository: 'https://github.com/org/app-fork' }))],
        context(),
      );
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.summary).toContain('trusted provenance refused');
    });

    it('ignores an attestation whose signature does not verify', () => {
      const result = verifyAttestations(
        [envelope(provenance()), envelope(provenance({ repository: 'https://github.com/evil/app' }), other)],
        context(),
      );
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings[1]).toMatchObject({ reason: TrustReason.WrongKey, counted: false });
    });
  });

  describe('errors (never a pass)', () => {
    it.each<[string, () => ReturnType<typeof verifyAttestation>]>([
      ['an envelope that is not JSON', () => verifyAttestation({ envelope: '{' }, context())],
      ['a bundle that is not a bundle', () => verifyAttestation({ bundle: { mediaType: 'x' } }, context())],
      [
        'a digest that is not sha256',
        () => verifyAttestation(envelope(provenance()), context({ digest: 'latest' })),
      ],
      [
        'an invalid attestations policy',
        () => verifyAttestation(envelope(provenance()), context({ policy: { x: 1 } as AttestationsSection })),
      ],
      [
        'no trusted signers',
        () => verifyAttestation(envelope(provenance()), context({ trust: { policy: {} } })),
      ],
    ])('%s', (_name, run) => {
      const result = run();
      expect(result.status).toBe(CheckStatus.Error);
      expect(result.errors.length).toBeGreaterThan(0);
    });
  });

  describe('source URIs', () => {
    it.each([
      ['git+https://github.com/org/app@refs/heads/main', 'https://github.com/org/app', 'refs/heads/main'],
      ['git+https://github.com/org/app.git@refs/tags/v1', 'https://github.com/org/app', 'refs/tags/v1'],
      ['https://github.com/org/app.git#refs/heads/main', 'https://github.com/org/app', 'refs/heads/main'],
      ['git+ssh://git@github.com/org/app', 'ssh://git@github.com/org/app', null],
    ])('%s', (uri, repository, ref) => {
      expect(parseSourceUri(uri)).toEqual({ repository, ref });
    });

    it('normalises repositories', () => {
      expect(normalizeRepository('git+https://gitlab.com/group/app.git/')).toBe(
        'https://gitlab.com/group/app',
      );
    });
  });
});
