// A large image of random layers as an OCI image layout on disk, written by hand the way
// test/support/oci-images.ts does (ustar + gzip + sha256 + config + manifest + index.json), but
// streamed: no layer is ever held in memory, so 1 GiB images cost a few MiB of RSS to make. Each
// layer is one file of random bytes, gzipped at level 0 (stored: random data does not compress, and
// the registry only sees bytes and digests).
import { createHash, randomFill } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { tarHeader } from '../test/support/oci-images';

const fill = promisify(randomFill);

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CHUNK = 1024 * 1024;

export interface LayoutImage {
  /** The layout folder (`oci:<dir>:<tag>` for skopeo). */
  dir: string;
  tag: string;
  /** sha256 of the manifest bytes. */
  digest: string;
  manifestBytes: Buffer;
  layers: { digest: string; size: number }[];
  /** Sum of the blob sizes (config and layers). */
  bytes: number;
}

/** The tar stream of one file of `size` random bytes, generated as it is read. */
async function* randomTar(name: string, size: number): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  for (let left = size; left > 0; left -= CHUNK) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, left));
    await fill(chunk);
    yield chunk;
  }
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

/** Passes bytes through, hashing and counting them. */
class Tap extends Transform {
  readonly hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

async function writeBlob(dir: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, 'blobs/sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** Writes an image of `layerCount` random layers of `layerBytes` each into the layout folder `dir`. */
export async function writeRandomLayout(
  dir: string,
  tag: string,
  layerCount: number,
  layerBytes: number,
): Promise<LayoutImage> {
  const blobs = join(dir, 'blobs/sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layers: { digest: string; size: number; diffId: string }[] = [];
  for (let i = 0; i < layerCount; i++) {
    const tmp = join(blobs, `partial-${i}`);
    const tar = new Tap();
    const gz = new Tap();
    await pipeline(
      Readable.from(randomTar(`data/layer-${i}.bin`, layerBytes)),
      tar,
      createGzip({ level: 0, chunkSize: 256 * 1024 }),
      gz,
      createWriteStream(tmp),
    );
    const digest = gz.digest();
    await rename(tmp, join(blobs, digest.slice(7)));
    layers.push({ digest, size: gz.size, diffId: tar.digest() });
  }
  const config = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    ),
  );
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
    }),
  );
  const manifest = await writeBlob(dir, manifestBytes);
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    dir,
    tag,
    digest: manifest.digest,
    manifestBytes,
    layers: layers.map(({ digest, size }) => ({ digest, size })),
    bytes: config.size + layers.reduce((n, l) => n + l.size, 0),
  };
}
