import { RegistryError } from './errors';
import { type Descriptor, type ImageManifest, isImageIndex } from './media-types';
import { type ManifestResult, type RegistryClient } from './registry-client';

/** What one copy moved, for the promotion record and the benchmark. */
export interface CopyStats {
  manifests: number;
  blobsCopied: number;
  blobsMounted: number;
  blobsPresent: number;
  bytesCopied: number;
}

export interface CopyEndpoint {
  client: RegistryClient;
  repository: string;
}

export interface CopyOptions {
  /** Blob transfers running at once. */
  parallel?: number;
  /** Largest blob copied (a promotion is not a way to fill a registry). */
  maxBlobBytes?: number;
  /**
   * Repositories on the target registry that may already hold the blobs (where earlier copies
   * went): a blob the target repository lacks is mounted from the first that has it, as skopeo
   * does from its blob-info cache, instead of moved again.
   */
  mountFrom?: readonly string[];
  /** Stops the copy between requests (a cancelled copy); requests in flight are the caller's to cut. */
  signal?: AbortSignal;
}

/**
 * Six, as browsers open per host: on one 2-core machine four left the registries' disks and
 * sockets idle between blobs, and more than six only added memory (each blob in flight holds its
 * socket buffers).
 */
const DEFAULT_PARALLEL = 6;
const DEFAULT_MAX_BLOB = 16 * 1024 * 1024 * 1024;

export const emptyStats = (): CopyStats => ({
  manifests: 0,
  blobsCopied: 0,
  blobsMounted: 0,
  blobsPresent: 0,
  bytesCopied: 0,
});

/** Runs `work` over `items` with at most `limit` running at once; the first failure wins. */
async function bounded<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      await work(items[next++]);
    }
  });
  await Promise.all(runners);
}

/** The config and layers of an image manifest, each digest once. */
function uniqueBlobs(manifest: ImageManifest): Descriptor[] {
  const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
  return blobs.filter((b, i) => blobs.findIndex((o) => o.digest === b.digest) === i);
}

/**
 * Whether the target repository holds the manifest already. Asked with a token that grants push
 * as well, and pull on the repositories blobs may be mounted from: the uploads, mounts and the
 * manifest need them later, and the grant is then made once, while the source is being read,
 * instead of on the first upload's (and the first mount's) 401.
 */
async function targetHolds(
  source: CopyEndpoint,
  target: CopyEndpoint,
  digest: string,
  options: CopyOptions,
): Promise<boolean> {
  const sameRegistry = source.client.host === target.client.host ? [source.repository] : [];
  const mountable = [...new Set([...sameRegistry, ...mountCandidates(target, options)])];
  await target.client.authorize(target.repository, 'pull,push', mountable);
  return (await target.client.headManifest(target.repository, digest)) !== null;
}

/**
 * Copies one manifest (or index, with every child) and all its blobs from source to target,
 * streaming each blob registry to registry. Blobs the target has are skipped; on the same
 * registry, blobs are mounted across repositories instead of moved. The manifest is written last,
 * by digest, and the digest the target computes must equal the source's: a copy interrupted at any
 * point leaves nothing that names the digest, and running it again finishes it.
 *
 * A manifest the target repository already holds (by digest) is not written again, nor are its
 * blobs looked at: a registry accepts a manifest only once everything it references is there.
 */
export async function copyManifest(
  source: CopyEndpoint,
  target: CopyEndpoint,
  digest: string,
  options: CopyOptions = {},
  stats: CopyStats = emptyStats(),
): Promise<{ manifest: ManifestResult; stats: CopyStats }> {
  options.signal?.throwIfAborted();
  const [manifest, present] = await Promise.all([
    source.client.getManifest(source.repository, digest),
    targetHolds(source, target, digest, options),
  ]);
  if (isImageIndex(manifest.json)) {
    for (const child of manifest.json.manifests) {
      await copyManifest(source, target, child.digest, options, stats);
    }
  } else if (present) {
    stats.blobsPresent += uniqueBlobs(manifest.json).length;
  } else {
    await bounded(uniqueBlobs(manifest.json), options.parallel ?? DEFAULT_PARALLEL, options.signal, (blob) =>
      copyBlob(source, target, blob, options, stats),
    );
  }
  if (!present) {
    options.signal?.throwIfAborted();
    const written = await target.client.putManifest(
      target.repository,
      digest,
      manifest.bytes,
      manifest.mediaType,
    );
    if (written !== digest) {
      throw new RegistryError(
        'digest_mismatch',
        `the target stored ${written} for source manifest ${digest}`,
        {
          registry: target.client.host,
          repository: target.repository,
        },
      );
    }
  }
  stats.manifests += 1;
  return { manifest, stats };
}

/** Repositories of the target registry to mount from: never the target repository itself. */
export function mountCandidates(target: CopyEndpoint, options: CopyOptions): string[] {
  return [...new Set(options.mountFrom ?? [])].filter((r) => r !== target.repository);
}

async function copyBlob(
  source: CopyEndpoint,
  target: CopyEndpoint,
  blob: Descriptor,
  options: CopyOptions,
  stats: CopyStats,
): Promise<void> {
  if (await target.client.blobExists(target.repository, blob.digest)) {
    stats.blobsPresent += 1;
    return;
  }
  if (
    source.client.host === target.client.host &&
    (await target.client.mountBlob(target.repository, blob.digest, source.repository))
  ) {
    stats.blobsMounted += 1;
    return;
  }
  for (const from of mountCandidates(target, options)) {
    if (await target.client.mountBlob(target.repository, blob.digest, from)) {
      stats.blobsMounted += 1;
      return;
    }
  }
  options.signal?.throwIfAborted();
  const stream = await source.client.getBlob(source.repository, blob.digest, {
    maxBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB,
    size: blob.size,
  });
  await target.client.blobUpload(target.repository, blob.digest, blob.size, stream, { sourceVerified: true });
  stats.blobsCopied += 1;
  stats.bytesCopied += blob.size;
}

/**
 * Copies what is stored under a tag (cosign's `sha256-<hex>.sig` / `.att`, the referrers tag-schema
 * index) and re-tags it in the target. Returns null when the source has no such tag.
 */
export async function copyTag(
  source: CopyEndpoint,
  target: CopyEndpoint,
  tag: string,
  options: CopyOptions = {},
  stats: CopyStats = emptyStats(),
): Promise<ManifestResult | null> {
  const head = await source.client.headManifest(source.repository, tag);
  if (!head) return null;
  const digest = head.digest ?? (await source.client.resolveTag(source.repository, tag));
  const { manifest } = await copyManifest(source, target, digest, options, stats);
  await target.client.putManifest(target.repository, tag, manifest.bytes, manifest.mediaType);
  return manifest;
}
