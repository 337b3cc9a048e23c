import {
  copyManifest,
  copyTag,
  type CopyEndpoint,
  type CopyOptions,
  type CopyStats,
  emptyStats,
} from './copier';
import { type Descriptor, isImageIndex } from './media-types';
import { digestTag } from './references';

/** What the promoter needs back from a copy to finish a promotion (the tag, its attestation). */
export interface ImageCopyResult {
  /** The promoted manifest exactly as the source holds it: the tag is written with these bytes. */
  manifest: { mediaType: string; digest: string; bytes: Buffer };
  /** Layers of the source's cosign `.att` image (carried into the attestation Airlock appends). */
  attestationLayers: Descriptor[];
  stats: CopyStats;
}

/**
 * Copies an image by digest with the evidence that travels with it: every platform and blob, the
 * cosign signatures (`sha256-<hex>.sig`), the referrers (and their tag-schema index on registries
 * without the referrers API) and the cosign attestations (`.att`). Tags are not written: the
 * promoter moves its tag after checking it, once everything named here is in the target.
 */
export async function copyImage(
  source: CopyEndpoint,
  target: CopyEndpoint,
  digest: string,
  options: CopyOptions = {},
): Promise<ImageCopyResult> {
  const stats = emptyStats();
  const evidence: CopyOptions = { signal: options.signal };
  // What evidence the source holds is asked beside the image's copy: mostly nothing, and each of
  // these answers is a round trip the copy would otherwise wait for at its end.
  const found = Promise.all([
    source.client.headManifest(source.repository, digestTag(digest, 'sig')),
    source.client.referrers(source.repository, digest),
    source.client.headManifest(source.repository, digestTag(digest)),
    source.client.tagSchemeManifest(source.repository, digest, 'att'),
  ]);
  // Its failure is the copy's only if the copy gets that far.
  found.catch(() => undefined);
  const { manifest } = await copyManifest(source, target, digest, options, stats);
  const [signatures, referrers, referrersIndex, attestations] = await found;
  if (signatures) await copyTag(source, target, digestTag(digest, 'sig'), evidence, stats);
  for (const r of referrers.manifests) await copyManifest(source, target, r.digest, evidence, stats);
  if (referrers.source === 'tag-schema' && referrersIndex) {
    await copyTag(source, target, digestTag(digest), evidence, stats);
  }
  if (attestations) await copyManifest(source, target, attestations.digest, evidence, stats);
  return {
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, bytes: manifest.bytes },
    attestationLayers: attestations && !isImageIndex(attestations.json) ? attestations.json.layers : [],
    stats,
  };
}
