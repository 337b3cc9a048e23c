import {
  type CosignLayer,
  cosignSignatureManifest,
  generateTestKeyPair,
  keySignedLayer,
  MockSigstore,
  sha256,
  signBytes,
  simpleSigningPayload,
  testImage,
  WORKFLOW_IDENTITY,
  GITHUB_ISSUER,
} from '../../test/support/sigstore';
import { CheckStatus } from '../domain';
import { verifyCosignSimpleSigning } from './cosign-signature.verifier';
import { type TrustInput } from './signer-trust';
import { SignatureForm, TrustReason } from './trust-findings';
import { type SignaturesSection } from '../domain/trust-policy';

describe(verifyCosignSimpleSigning.name, () => {
  const release = generateTestKeyPair();
  const other = generateTestKeyPair();
  const image = testImage('app');
  const anotherImage = testImage('other');
  let sigstore: MockSigstore;
  let rogue: MockSigstore;
  let keyless: CosignLayer;
  let keylessUntrusted: CosignLayer;
  let keylessNoLog: CosignLayer;
  let keylessFork: CosignLayer;

  beforeAll(async () => {
    [sigstore, rogue] = await Promise.all([MockSigstore.start(), MockSigstore.start()]);
    [keyless, keylessUntrusted, keylessNoLog, keylessFork] = await Promise.all([
      sigstore.keylessLayer(image.digest, WORKFLOW_IDENTITY),
      rogue.keylessLayer(image.digest, WORKFLOW_IDENTITY),
      sigstore.keylessLayer(image.digest, WORKFLOW_IDENTITY, { tlog: false }),
      sigstore.keylessLayer(image.digest, {
        sub: 'https://github.com/org/app-fork/.github/workflows/release.yml@refs/heads/main',
        iss: GITHUB_ISSUER,
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([sigstore?.close(), rogue?.close()]);
  });

  const keys: SignaturesSection = { keys: [{ name: 'release', publicKey: release.publicKeyPem }] };
  const identities = (extra: Partial<SignaturesSection> = {}): TrustInput => ({
    policy: {
      identities: [
        {
          issuer: GITHUB_ISSUER,
          subjectRegExp: '^https://github\\.com/org/app/\\.github/workflows/[^@]+@refs/heads/main$',
        },
      ],
      ...extra,
    },
    trustedRoot: sigstore.trustedRoot(),
  });

  const verify = (layers: CosignLayer[], trust: TrustInput, digest = image.digest) => {
    const sig = cosignSignatureManifest(layers);
    return verifyCosignSimpleSigning({ manifest: sig.manifestBytes, layers: sig.blobs, digest }, trust);
  };

  describe('accepts', () => {
    it('a key-based signature from a trusted key', async () => {
      const result = await verify([keySignedLayer(image.digest, release)], { policy: keys });
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings).toEqual([
        expect.objectContaining({
          index: 0,
          form: SignatureForm.CosignKey,
          counted: true,
          reason: TrustReason.Verified,
          key: 'release',
          digest: sha256(simpleSigningPayload(image.digest)),
        }),
      ]);
      expect(result.signers).toEqual(['key:release']);
    });

    it('a keyless signature with certificate and Rekor bundle annotations', async () => {
      const result = await verify([keyless], identities());
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings[0]).toMatchObject({
        form: SignatureForm.CosignKeyless,
        reason: TrustReason.Verified,
        identity: { subject: WORKFLOW_IDENTITY.sub, issuer: GITHUB_ISSUER },
        transparencyLog: true,
      });
    });

    it('a keyless signature with its Rekor entry when the log is optional', async () => {
      const result = await verify([keyless], identities({ transparencyLog: 'optional' }));
      expect(result.status).toBe(CheckStatus.Pass);
    });

    it('layers fetched through a function, and a signature among others that do not count', async () => {
      const sig = cosignSignatureManifest([
        keySignedLayer(image.digest, other),
        keySignedLayer(image.digest, release),
      ]);
      const result = await verifyCosignSimpleSigning(
        {
          manifest: sig.manifest,
          layers: async (d) => sig.blobs.get(d) ?? Buffer.alloc(0),
          digest: image.digest,
        },
        { policy: keys },
      );
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.findings.map((f) => f.reason)).toEqual([TrustReason.WrongKey, TrustReason.Verified]);
    });

    it('two distinct signers when the policy wants two', async () => {
      const policy: SignaturesSection = {
        keys: [...(keys.keys ?? []), { name: 'qa', publicKey: other.publicKeyPem }],
        minimum: 2,
      };
      const result = await verify(
        [keySignedLayer(image.digest, release), keySignedLayer(image.digest, other)],
        { policy },
      );
      expect(result.status).toBe(CheckStatus.Pass);
      expect(result.signers).toEqual(['key:release', 'key:qa']);
    });
  });

  describe('refuses', () => {
    const tamper = (layer: CosignLayer): CosignLayer => ({
      payload: Buffer.from(layer.payload.toString().replace('airlock tests', 'attacker')),
      annotations: layer.annotations,
    });

    it.each<[string, () => CosignLayer[], () => TrustInput, TrustReason]>([
      [
        'a signature by an untrusted key',
        () => [keySignedLayer(image.digest, other)],
        () => ({ policy: keys }),
        TrustReason.WrongKey,
      ],
      [
        'a payload rewritten together with its descriptor: no key verifies it',
        () => [tamper(keySignedLayer(image.digest, release))],
        () => ({ policy: keys }),
        TrustReason.WrongKey,
      ],
      [
        'a keyless payload changed after signing',
        () => [tamper(keyless)],
        () => identities(),
        TrustReason.TamperedPayload,
      ],
      [
        'a valid signature whose payload names another digest',
        () => [keySignedLayer(anotherImage.digest, release)],
        () => ({ policy: keys }),
        TrustReason.DigestMismatch,
      ],
      [
        'a signature with another payload type',
        () => {
          const payload = simpleSigningPayload(image.digest, { type: 'atomic container signature' });
          return [
            { payload, annotations: { 'dev.cosignproject.cosign/signature': signBytes(payload, release) } },
          ];
        },
        () => ({ policy: keys }),
        TrustReason.WrongType,
      ],
      [
        'a keyless certificate from a CA that is not in the trusted root',
        () => [keylessUntrusted],
        () => identities(),
        TrustReason.UntrustedCa,
      ],
      [
        'a keyless signature without a Rekor entry when the log is required',
        () => [keylessNoLog],
        () => identities(),
        TrustReason.TlogMissing,
      ],
      [
        'a keyless signature without a Rekor entry or timestamp, even when the log is optional',
        () => [keylessNoLog],
        () => identities({ transparencyLog: 'optional' }),
        TrustReason.TlogMissing,
      ],
      [
        "a keyless signature with another signature's Rekor bundle",
        () => [
          {
            payload: keyless.payload,
            annotations: {
              ...keyless.annotations,
              'dev.sigstore.cosign/bundle': keylessFork.annotations['dev.sigstore.cosign/bundle'],
            },
          },
        ],
        () => identities(),
        TrustReason.TlogInvalid,
      ],
      [
        'a keyless identity the policy does not name',
        () => [keylessFork],
        () => identities(),
        TrustReason.IdentityMismatch,
      ],
      [
        'a keyless identity that matches only an unanchored pattern',
        () => [keylessFork],
        () => ({
          policy: { identities: [{ issuer: GITHUB_ISSUER, subjectRegExp: 'https://github\\.com/org/app' }] },
          trustedRoot: sigstore.trustedRoot(),
        }),
        TrustReason.UnanchoredPattern,
      ],
      [
        'a keyless signature when the policy trusts only keys',
        () => [keyless],
        () => ({ policy: keys }),
        TrustReason.IdentityMismatch,
      ],
      [
        'a key-based signature when the policy trusts only identities',
        () => [keySignedLayer(image.digest, release)],
        () => identities(),
        TrustReason.WrongKey,
      ],
      [
        'a layer without a signature annotation',
        () => [{ payload: simpleSigningPayload(image.digest), annotations: {} }],
        () => ({ policy: keys }),
        TrustReason.Malformed,
      ],
    ])('%s', async (_name, layers, trust, reason) => {
      const result = await verify(layers(), trust());
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings).toHaveLength(1);
      expect(result.findings[0]).toMatchObject({ counted: false, reason });
      expect(result.summary).toContain(reason);
    });

    it('a payload changed after signing (the layer bytes no longer match the manifest)', async () => {
      const sig = cosignSignatureManifest([keySignedLayer(image.digest, release)]);
      const [descriptor] = sig.manifest.layers as Array<{ digest: string }>;
      const blobs = new Map(sig.blobs);
      blobs.set(
        descriptor.digest,
        tamper({ payload: blobs.get(descriptor.digest)!, annotations: {} }).payload,
      );
      const result = await verifyCosignSimpleSigning(
        { manifest: sig.manifestBytes, layers: blobs, digest: image.digest },
        { policy: keys },
      );
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings[0]).toMatchObject({
        reason: TrustReason.TamperedPayload,
        digest: descriptor.digest,
      });
    });

    it('a signature copied from another image', async () => {
      const signedForOther = cosignSignatureManifest([keySignedLayer(anotherImage.digest, release)]);
      const copied = signedForOther.manifest.layers as Array<{ digest: string }>;
      const result = await verifyCosignSimpleSigning(
        { manifest: signedForOther.manifest, layers: signedForOther.blobs, digest: image.digest },
        { policy: keys },
      );
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings[0]).toMatchObject({
        reason: TrustReason.DigestMismatch,
        digest: copied[0].digest,
      });
    });

    it('one signer counted twice toward a minimum of two', async () => {
      const result = await verify(
        [
          keySignedLayer(image.digest, release),
          keySignedLayer(image.digest, release, { reference: 'registry.test/b' }),
        ],
        { policy: { ...keys, minimum: 2 } },
      );
      expect(result.status).toBe(CheckStatus.Fail);
      expect(result.findings.every((f) => f.counted)).toBe(true);
      expect(result.signers).toEqual(['key:release']);
    });

    it('a layer too large to be a payload, without fetching it', async () => {
      const sig = cosignSignatureManifest([keySignedLayer(image.digest, release)]);
      const layers = (sig.manifest.layers as Array<{ size: number }>).map((l) => ({
        ...l,
        size: 10 * 1024 * 1024,
      }));
      const fetch = jest.fn();
      const result = await verifyCosignSimpleSigning(
        { manifest: { ...sig.manifest, layers }, layers: fetch, digest: image.digest },
        { policy: keys },
      );
      expect(fetch).not.toHaveBeenCalled();
      expect(result.findings[0]).toMatchObject({ reason: TrustReason.Malformed, counted: false });
    });

    it('an empty signature manifest', async () => {
      const result = await verify([], { policy: keys });
      expect(result).toMatchObject({
        status: CheckStatus.Fail,
        summary: expect.stringContaining('no signatures'),
      });
    });
  });

  describe('errors (never a pass)', () => {
    const layer = () => keySignedLayer(image.digest, release);
    it.each<[string, () => Promise<ReturnType<typeof verify> extends Promise<infer R> ? R : never>]>([
      [
        'a manifest that is not JSON',
        () =>
          verifyCosignSimpleSigning(
            { manifest: '{', layers: new Map(), digest: image.digest },
            { policy: keys },
          ),
      ],
      [
        'a manifest without layers',
        () =>
          verifyCosignSimpleSigning(
            { manifest: {}, layers: new Map(), digest: image.digest },
            { policy: keys },
          ),
      ],
      ['an artifact digest that is not sha256', () => verify([layer()], { policy: keys }, 'sha512:abc')],
      ['a policy with no keys or identities', () => verify([layer()], { policy: {} })],
      ['identities without a trusted root', () => verify([layer()], { policy: identities().policy })],
      [
        'a trusted root that is not one',
        () => verify([layer()], { policy: identities().policy, trustedRoot: { tlogs: [] } }),
      ],
      [
        'a policy whose only key is not a P-256 key',
        () =>
          verify([layer()], {
            policy: {
              keys: [{ name: 'x', publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }],
            },
          }),
      ],
      [
        'a layer that cannot be fetched',
        () => {
          const sig = cosignSignatureManifest([layer()]);
          return verifyCosignSimpleSigning(
            {
              manifest: sig.manifest,
              layers: () => Promise.reject(new Error('registry unavailable')),
              digest: image.digest,
            },
            { policy: keys },
          );
        },
      ],
    ])('%s', async (_name, run) => {
      const result = await run();
      expect(result.status).toBe(CheckStatus.Error);
      expect(result.errors.length).toBeGreaterThan(0);
    });
  });
});
