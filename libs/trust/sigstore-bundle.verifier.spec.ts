import {
  bundleJson,
  generateTestKeyPair,
  GITHUB_ISSUER,
  inTotoStatement,
  keyDsseBundle,
  keyMessageBundle,
  MockSigstore,
  slsaProvenanceV1,
  testImage,
  WORKFLOW_IDENTITY,
} from '../../test/support/sigstore';
import { CheckStatus } from '../domain';
import { type TrustInput } from './signer-trust';
import {
  type BundleArtifact,
  COSIGN_SIGN_PREDICATE,
  verifySigstoreBundle,
  verifySigstoreBundles,
} from './sigstore-bundle.verifier';
import { SignatureForm, TrustReason } from './trust-findings';
import { type SignaturesSection } from '../domain/trust-policy';

describe(verifySigstoreBundle.name, () => {
  const release = generateTestKeyPair();
  const other = generateTestKeyPair();
  const image = testImage('app');
  const anotherImage = testImage('other');
  const artifact: BundleArtifact = { digest: image.digest, manifest: image.manifest };
  const signStatement = (digest: string) => inTotoStatement(digest, COSIGN_SIGN_PREDICATE, {});
  const keys: TrustInput = { policy: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] } };

  let sigstore: MockSigstore;
  let rogue: MockSigstore;
  const material: Record<string, object> = {};

  beforeAll(async () => {
    [sigstore, rogue] = await Promise.all([MockSigstore.start(), MockSigstore.start()]);
    const fork = {
      sub: 'https://github.com/org/app-fork/.github/workflows/release.yml@refs/heads/main',
      iss: GITHUB_ISSUER,
    };
    const made = await Promise.all([
      keyMessageBundle(image.manifest, release),
      keyDsseBundle(signStatement(image.digest), release),
      keyMessageBundle(image.manifest, other, 'other'),
      keyMessageBundle(image.manifest, other, 'release'),
      keyDsseBundle(signStatement(anotherImage.digest), release),
      keyMessageBundle(anotherImage.manifest, release),
      keyDsseBundle(slsaProvenanceV1(image.digest), release),
      sigstore.messageBundle(image.manifest, WORKFLOW_IDENTITY).then(bundleJson),
      sigstore.dsseBundle(signStatement(image.digest), WORKFLOW_IDENTITY).then(bundleJson),
      rogue.messageBundle(image.manifest, WORKFLOW_IDENTITY).then(bundleJson),
      sigstore.messageBundle(image.manifest, WORKFLOW_IDENTITY, { tlog: false }).then(bundleJson),
      sigstore.messageBundle(image.manifest, fork).then(bundleJson),
    ]);
    [
      material.keyMessage,
      material.keyDsse,
      material.otherKey,
      material.otherKeyClaimingRelease,
      material.keyDsseOtherImage,
      material.keyMessageOtherImage,
      material.keyProvenance,
      material.keylessMessage,
      material.keylessDsse,
      material.keylessUntrusted,
      material.keylessNoLog,
      material.keylessFork,
    ] = made;
  });
  afterAll(async () => {
    await Promise.all([sigstore?.close(), rogue?.close()]);
  });

  const identities = (policy: Partial<SignaturesSection> = {}): TrustInput => ({
    policy: {
      identities: [{ issuer: GITHUB_ISSUER, subject: WORKFLOW_IDENTITY.sub }],
      ...policy,
    },
    trustedRoot: sigstore.trustedRoot(),
  });

  /** The DSSE payload replaced by a statement about the same digest with other content. */
  const tamperDsse = (bundle: object) => {
    const json = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString());
    statement.predicate = { injected: true };
    json.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    return json;
  };

  describe('accepts', () => {
    it.each<[string, string, () => TrustInput, SignatureForm]>([
      [
        'a key-based message signature over the manifest (v0.2)',
        'keyMessage',
        () => keys,
        SignatureForm.BundleKey,
      ],
      ['a key-based DSSE signature statement (v0.3)', 'keyDsse', () => keys, SignatureForm.BundleKey],
      [
        'a keyless message signature with a Rekor entry',
        'keylessMessage',
        () => identities(),
        SignatureForm.BundleKeyless,
      ],
      [
        'a keyless DSSE signature statement with a Rekor entry',
        'keylessDsse',
        () => identities(),
        SignatureForm.BundleKeyless,
      ],
      [
        'a keyless signature matched by an anchored pattern',
        'keylessMessage',
        () => ({
          policy: {
            identities: [
              {
                issuer: GITHUB_ISSUER,
                subjectRegExp: '^https://github\\.com/org/app/\\.github/workflows/.+$',
              },
            ],
          },
          trustedRoot: sigstore.trustedRoot(),
        }),
        SignatureForm.BundleKeyless,
      ],
    ])('%s', (_name, which, trust, form) => {
      const result = verifySigstoreBundle(material[which], artifact, trust());
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings).toEqual([
        expect.objectContaining({ form, counted: true, reason: TrustReason.Verified }),
      ]);
    });

    it('the bundle as bytes, and records the identity and log entry of a keyless signer', () => {
      const result = verifySigstoreBundle(
        Buffer.from(JSON.stringify(material.keylessMessage)),
        artifact,
        identities(),
      );
      expect(result.findings[0]).toMatchObject({
        identity: { subject: WORKFLOW_IDENTITY.sub, issuer: GITHUB_ISSUER },
        matchedIdentity: `${WORKFLOW_IDENTITY.sub} at ${GITHUB_ISSUER}`,
        transparencyLog: true,
      });
    });
  });

  describe('refuses', () => {
    it.each<[string, () => unknown, () => TrustInput, TrustReason]>([
      ['a bundle signed by an untrusted key', () => material.otherKey, () => keys, TrustReason.WrongKey],
      [
        'a bundle whose hint names a trusted key that does not verify it',
        () => material.otherKeyClaimingRelease,
        () => keys,
        TrustReason.TamperedPayload,
      ],
      [
        'a key-based DSSE payload changed after signing',
        () => tamperDsse(material.keyDsse),
        () => keys,
        TrustReason.TamperedPayload,
      ],
      [
        'a keyless DSSE payload changed after signing',
        () => tamperDsse(material.keylessDsse),
        () => identities(),
        TrustReason.TamperedPayload,
      ],
      [
        'a message signature for another image',
        () => material.keyMessageOtherImage,
        () => keys,
        TrustReason.DigestMismatch,
      ],
      [
        'a signature statement about another image',
        () => material.keyDsseOtherImage,
        () => keys,
        TrustReason.DigestMismatch,
      ],
      [
        'an attestation offered as a signature',
        () => material.keyProvenance,
        () => keys,
        TrustReason.WrongType,
      ],
      [
        'a certificate from a CA that is not in the trusted root',
        () => material.keylessUntrusted,
        () => identities(),
        TrustReason.UntrustedCa,
      ],
      [
        'a keyless bundle without a log entry when the log is required',
        () => material.keylessNoLog,
        () => identities(),
        TrustReason.TlogMissing,
      ],
      [
        'a keyless bundle with neither log entry nor timestamp when the log is optional',
        () => material.keylessNoLog,
        () => identities({ transparencyLog: 'optional' }),
        TrustReason.TlogMissing,
      ],
      [
        'a keyless identity the policy does not name',
        () => material.keylessFork,
        () => identities(),
        TrustReason.IdentityMismatch,
      ],
      [
        'a keyless identity from another issuer',
        () => material.keylessMessage,
        () => ({
          policy: { identities: [{ issuer: 'https://gitlab.com', subject: WORKFLOW_IDENTITY.sub }] },
          trustedRoot: sigstore.trustedRoot(),
        }),
        TrustReason.IdentityMismatch,
      ],
      [
        'a keyless identity that matches only an unanchored pattern',
        () => material.keylessFork,
        () => ({
          policy: { identities: [{ issuer: GITHUB_ISSUER, subjectRegExp: '^https://github\\.com/org/app' }] },
          trustedRoot: sigstore.trustedRoot(),
        }),
        TrustReason.UnanchoredPattern,
      ],
    ])('%s', (_name, bundle, trust, reason) => {
      const result = verifySigstoreBundle(bundle(), artifact, trust());
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings).toEqual([expect.objectContaining({ counted: false, reason })]);
    });

    it('a message signature whose signed bytes are not the manifest', () => {
      const result = verifySigstoreBundle(
        material.keyMessage,
        { digest: anotherImage.digest, manifest: anotherImage.manifest },
        keys,
      );
      expect(result.findings[0].reason).toBe(TrustReason.DigestMismatch);
    });
  });

  describe('errors (never a pass)', () => {
    it.each<[string, () => ReturnType<typeof verifySigstoreBundle>]>([
      ['a bundle that is not JSON', () => verifySigstoreBundle('{', artifact, keys)],
      ['JSON that is not a bundle', () => verifySigstoreBundle({ mediaType: 'x' }, artifact, keys)],
      [
        'a message signature without the manifest bytes',
        () => verifySigstoreBundle(material.keyMessage, { digest: image.digest }, keys),
      ],
      [
        'manifest bytes that are not the digest',
        () =>
          verifySigstoreBundle(
            material.keyMessage,
            { digest: image.digest, manifest: anotherImage.manifest },
            keys,
          ),
      ],
      [
        'identities without a trusted root',
        () => verifySigstoreBundle(material.keylessMessage, artifact, { policy: identities().policy }),
      ],
      [
        'a required log with no log in the trusted root',
        () =>
          verifySigstoreBundle(material.keylessMessage, artifact, {
            policy: identities().policy,
            trustedRoot: { ...sigstore.trustedRoot(), tlogs: [] },
          }),
      ],
    ])('%s', (_name, run) => {
      const result = run();
      expect(result.status).toBe(CheckStatus.Error);
      expect(result.errors.length).toBeGreaterThan(0);
    });
  });

  describe(verifySigstoreBundles.name, () => {
    it('counts distinct signers and lists a malformed bundle as a finding', () => {
      const result = verifySigstoreBundles(
        ['not json', material.keyMessage, material.keylessMessage],
        artifact,
        {
          policy: { ...identities().policy, keys: keys.policy.keys, minimum: 2 },
          trustedRoot: sigstore.trustedRoot(),
        },
      );
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings.map((f) => f.reason)).toEqual([
        TrustReason.Malformed,
        TrustReason.Verified,
        TrustReason.Verified,
      ]);
      expect(result.signers).toEqual(['key:release', `identity:${WORKFLOW_IDENTITY.sub}@${GITHUB_ISSUER}`]);
    });
  });
});
