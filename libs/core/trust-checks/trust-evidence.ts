import { type ImageManifest, isImageIndex, type ManifestResult, type RegistryClient } from '../../oci';

/** What a registry holds about one image that signature and attestation checks look at. */
export interface TrustEvidence {
  /** The image's own manifest (message-signature bundles sign its bytes). */
  manifest: ManifestResult;
  /** cosign's `sha256-<hex>.sig` manifest: one simplesigning layer per signature. */
  cosignSignatures: ManifestResult | null;
  /** cosign's `sha256-<hex>.att` manifest: one DSSE envelope layer per attestation. */
  cosignAttestations: Array<{ envelope: unknown; annotations: Record<string, string> }>;
  /** Sigstore bundles attached as referrers that sign the image (message or cosign statement). */
  signatureBundles: unknown[];
  /** Sigstore bundles attached as referrers that carry other in-toto statements. */
  attestationBundles: unknown[];
  /**
   * The `.sig` manifest's payload layers by digest, fetched with everything else (in parallel,
   * each once), so the verification never goes back to the registry after the client is closed.
   */
  signatureLayers: ReadonlyMap<string, Uint8Array>;
  /** Registry requests made to collect all this (for the benchmark and the findings). */
  requests: number;
}

const MAX_REFERRERS = 50;
const MAX_EVIDENCE_BYTES = 1024 * 1024;
/** cosign simplesigning payloads are small; larger layers are not fetched (the verifier refuses them). */
const MAX_SIGNATURE_PAYLOAD = 256 * 1024;
const BUNDLE_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\.v[0-9.]+)?\+json/;
const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** Parsed JSON, or the raw text when it is not JSON (the verifiers report it as malformed). */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return bytes.toString('utf8');
  }
}

const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * A bundle signs the image (a message signature, or cosign's signing statement in DSSE) or attests
 * something else about it. Unreadable ones go to the signatures check, which reports them.
 */
function bundleKind(bundle: unknown): 'signature' | 'attestation' {
  const dsse = (bundle as { dsseEnvelope?: { payload?: unknown } } | null)?.dsseEnvelope;
  if (!dsse || typeof dsse.payload !== 'string') return 'signature';
  try {
    const statement = JSON.parse(Buffer.from(dsse.payload, 'base64').toString('utf8')) as {
      predicateType?: unknown;
    };
    return statement.predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
  } catch {
    return 'signature';
  }
}

/**
 * Collects signatures and attestations for `digest` from the source registry. Only manifests whose
 * `subject` is the image itself are taken from the referrers (anyone who can push can add entries
 * to the list); everything read is size-bounded and digest-verified by the client.
 */
export async function collectTrustEvidence(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<TrustEvidence> {
  let requests = 0;
  const counted = <T>(p: Promise<T>): Promise<T> => {
    requests += 1;
    return p;
  };
  const blob = (d: string, size: number): Promise<Buffer> =>
    counted(client.getBlobBytes(repository, d, { maxBytes: Math.min(size, MAX_EVIDENCE_BYTES), size }));

  const [manifest, cosignSignatures, cosignAtt, referrers] = await Promise.all([
    counted(client.getManifest(repository, digest)),
    counted(client.tagSchemeManifest(repository, digest, 'sig')),
    counted(client.tagSchemeManifest(repository, digest, 'att')),
    counted(client.referrers(repository, digest)),
  ]);

  const sigLayers =
    cosignSignatures && !isImageIndex(cosignSignatures.json) ? cosignSignatures.json.layers : [];
  const wanted = sigLayers
    .filter((l) => l.size <= MAX_SIGNATURE_PAYLOAD)
    .filter((l, i, all) => all.findIndex((o) => o.digest === l.digest) === i)
    .slice(0, MAX_REFERRERS);
  const signatureLayersPromise = Promise.all(
    wanted.map(async (l) => [l.digest, await blob(l.digest, l.size)] as const),
  );

  const cosignAttestations = await Promise.all(
    (cosignAtt && !isImageIndex(cosignAtt.json) ? cosignAtt.json.layers : [])
      .filter((l) => l.mediaType === DSSE_MEDIA_TYPE && l.size <= MAX_EVIDENCE_BYTES)
      .slice(0, MAX_REFERRERS)
      .map(async (l) => ({
        envelope: parseJson(await blob(l.digest, l.size)),
        annotations: l.annotations ?? {},
      })),
  );

  const bundles: unknown[] = [];
  for (const ref of referrers.manifests.slice(0, MAX_REFERRERS)) {
    if (ref.artifactType !== undefined && !BUNDLE_MEDIA_TYPE.test(ref.artifactType)) continue;
    const m = await counted(client.getManifest(repository, ref.digest));
    if (isImageIndex(m.json)) continue;
    const image: ImageManifest = m.json;
    if (image.subject?.digest !== digest) continue;
    for (const layer of image.layers) {
      if (!BUNDLE_MEDIA_TYPE.test(layer.mediaType) || layer.size > MAX_EVIDENCE_BYTES) continue;
      bundles.push(parseJson(await blob(layer.digest, layer.size)));
    }
  }

  const signatureLayers = new Map<string, Uint8Array>(await signatureLayersPromise);
  return {
    manifest,
    cosignSignatures,
    signatureLayers,
    cosignAttestations,
    signatureBundles: bundles.filter((b) => bundleKind(b) !== 'attestation'),
    attestationBundles: bundles.filter((b) => bundleKind(b) === 'attestation'),
    get requests() {
      return requests;
    },
  };
}
