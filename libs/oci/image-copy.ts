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
  const { manifest } = await copyManifest(source, target, digest, options, stats);
  await copyTag(source, target, digestTag(digest, 'sig'), evidence, stats);
  const referrers = await source.client.referrers(source.repository, digest);
  for (const r of referrers.manifests) await copyManifest(source, target, r.digest, evidence, stats);
  if (referrers.source === 'tag-schema') await copyTag(source, target, digestTag(digest), evidence, stats);
  const attestations = await source.client.tagSchemeManifest(source.repository, digest, 'att');
  if (attestations) await copyManifest(source, target, attestations.digest, evidence, stats);
  return {
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, bytes: manifest.bytes },
    attestationLayers: attestations && !isImageIndex(attestations.json) ? attestations.json.layers : [],
    stats,
  };
}
