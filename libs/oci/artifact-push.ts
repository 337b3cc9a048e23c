import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Descriptor, MediaType } from './media-types';
import { type RegistryClient } from './registry-client';

export interface ArtifactLayerInput {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

const digestOf = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Writes a small artifact (an OCI image manifest with in-memory config and layers, such as
 * cosign's `.sig`/`.att` manifests) and tags it. Blobs the registry has are not sent again.
 */
export async function pushArtifact(
  client: RegistryClient,
  repository: string,
  tag: string,
  content: {
    config: { mediaType: string; bytes: Buffer };
    /** New layers (uploaded), or descriptors of blobs the repository already holds. */
    layers: Array<ArtifactLayerInput | Descriptor>;
    subject?: Descriptor;
  },
): Promise<{ digest: string; bytes: Buffer }> {
  const upload = async (bytes: Buffer): Promise<string> => {
    const digest = digestOf(bytes);
    if (!(await client.blobExists(repository, digest))) {
      await client.blobUpload(repository, digest, bytes.length, Readable.from([bytes]));
    }
    return digest;
  };
  const config: Descriptor = {
    mediaType: content.config.mediaType,
    digest: await upload(content.config.bytes),
    size: content.config.bytes.length,
  };
  const layers: Descriptor[] = [];
  for (const l of content.layers) {
    if (!('bytes' in l)) {
      layers.push(l);
      continue;
    }
    layers.push({
      mediaType: l.mediaType,
      digest: await upload(l.bytes),
      size: l.bytes.length,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers,
      ...(content.subject ? { subject: content.subject } : {}),
    }),
  );
  const digest = await client.putManifest(repository, tag, manifest, MediaType.OciManifest);
  return { digest, bytes: manifest };
}
