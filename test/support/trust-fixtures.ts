// Signature and attestation material in a real registry, the way signing tools leave it: cosign's
// `sha256-<hex>.sig` and `sha256-<hex>.att` tag schemes, and Sigstore bundles attached as
// referrers by @sigstore/oci (which falls back to the `sha256-<hex>` tag-schema index on
// distribution 2.8). Built on oci-images.ts and sigstore.ts.
import { attachArtifactToImage, type Credentials } from '@sigstore/oci';
import {
  cosignPayload,
  cosignSign,
  pushArtifactManifest,
  pushCosignSignatures,
  sha256,
  type PushedArtifact,
} from './oci-images';
import { keyDsseEnvelope, type TestKeyPair } from './sigstore';

export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';

/** What the CI requester token (ci-app) claims: repository acme/app at this commit. */
export const CI_SHA = '0123456789abcdef0123456789abcdef01234567';
/** The source repository the provenance of acme/app names. */
export const CI_SOURCE_REPOSITORY = 'https://github.com/acme/app';

/** An environment's source rule for a loopback test registry (plain http). */
export const insecureSource = (host: string, repositories = ['acme/*']) => [
  { registry: host, repositories, insecure: true },
];

/** A cosign key-based signature of `digest`, stored under the `sha256-<hex>.sig` tag of `tagDigest`. */
export async function pushKeySignature(
  host: string,
  repo: string,
  digest: string,
  key: TestKeyPair,
  options: { tagDigest?: string; reference?: string } = {},
): Promise<PushedArtifact> {
  const payload = cosignPayload(options.reference ?? `${host}/${repo}`, digest, { creator: 'airlock e2e' });
  return pushCosignSignatures(host, repo, options.tagDigest ?? digest, [
    { payload, signature: cosignSign(payload, key.privateKey) },
  ]);
}

/**
 * A `.sig` manifest holding these layers as they are (payload bytes and annotations), for
 * signatures that were changed or copied: the layer digests are those of the bytes given.
 */
export async function pushSignatureLayers(
  host: string,
  repo: string,
  imageDigest: string,
  layers: { payload: Buffer; annotations: Record<string, string> }[],
): Promise<PushedArtifact> {
  const signature = 'dev.cosignproject.cosign/signature';
  return pushCosignSignatures(
    host,
    repo,
    imageDigest,
    layers.map((l) => {
      const { [signature]: sig, ...rest } = l.annotations;
      return { payload: l.payload, signature: sig, annotations: rest };
    }),
  );
}

export interface AttestationLayer {
  /** The DSSE envelope (JSON) that is the layer's content. */
  envelope: object;
  predicateType: string;
  /** Extra layer annotations (keyless certificate and Rekor bundle). */
  annotations?: Record<string, string>;
}

/**
 * cosign's attestation tag scheme: an OCI manifest tagged `sha256-<hex>.att`, one layer per DSSE
 * envelope (`application/vnd.dsse.envelope.v1+json`, annotated with its `predicateType`), config
 * shaped like the `.sig` one.
 */
export async function pushCosignAttestations(
  host: string,
  repo: string,
  imageDigest: string,
  attestations: AttestationLayer[],
): Promise<PushedArtifact> {
  const layers = attestations.map((a) => ({
    mediaType: DSSE_ENVELOPE,
    bytes: Buffer.from(JSON.stringify(a.envelope)),
    annotations: { predicateType: a.predicateType, ...a.annotations },
  }));
  const config = {
    architecture: '',
    os: '',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) },
  };
  return pushArtifactManifest(host, repo, `${imageDigest.replace(':', '-')}.att`, {
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      bytes: Buffer.from(JSON.stringify(config)),
    },
    layers,
  });
}

/** A key-signed in-toto statement as one `.att` layer. */
export const keyAttestation = (statement: Buffer, key: TestKeyPair): AttestationLayer => ({
  envelope: keyDsseEnvelope(statement, [key]),
  predicateType: (JSON.parse(statement.toString('utf8')) as { predicateType: string }).predicateType,
});

/**
 * Attaches a Sigstore bundle to the image as a referrer with @sigstore/oci itself: an artifact
 * manifest (artifactType and layer media type v0.3 bundle, empty config, subject = the image),
 * listed in the `sha256-<hex>` tag-schema index since distribution 2.8 has no referrers API.
 * No credentials: the registry is anonymous (credentials make @sigstore/oci expect a challenge).
 */
export async function attachBundle(
  host: string,
  repo: string,
  imageDigest: string,
  bundle: object,
): Promise<void> {
  await attachArtifactToImage({
    imageName: `${host}/${repo}`,
    imageDigest,
    artifact: Buffer.from(JSON.stringify(bundle)),
    mediaType: SIGSTORE_BUNDLE_V03,
    credentials: undefined as unknown as Credentials,
  });
}
