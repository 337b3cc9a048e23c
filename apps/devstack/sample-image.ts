import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { MediaType, pushArtifact, type RegistryClient } from '../../libs/oci';

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A one-file ustar archive: enough for a real, pullable image layer. */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, offset: number, length: number): void =>
    void header.write(s, offset, length, 'utf8');
  const octal = (n: number, offset: number, length: number): void =>
    put(`${n.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  put(name, 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(content.length, 124, 12);
  octal(Math.floor(Date.UTC(2026, 0, 1) / 1000), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** The development signing key ("release"), created once; its public half goes in the policy. */
export function releaseKey(path: string): { privatePem: string; publicPem: string } {
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privatePem = readFileSync(path, 'utf8');
  const publicPem = createPublicKey(createPrivateKey(privatePem))
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { privatePem, publicPem };
}

/**
 * Pushes a small sample image and a cosign key-based signature of it (the `.sig` tag scheme), so a
 * new user can promote something real. Returns the image digest.
 */
export async function seedSignedImage(
  client: RegistryClient,
  registryHost: string,
  repository: string,
  tag: string,
  key: { privatePem: string },
): Promise<string> {
  const layer = gzipSync(tarOf('hello.txt', Buffer.from('hello from airlock\n')));
  const diffId = digestOf(tarOf('hello.txt', Buffer.from('hello from airlock\n')));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['cat', '/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
  for (const blob of [layer, config]) {
    const d = digestOf(blob);
    if (!(await client.blobExists(repository, d)))
      await client.blobUpload(repository, d, blob.length, Readable.from([blob]));
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: digestOf(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const digest = await client.putManifest(repository, tag, manifest, MediaType.OciManifest);
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': `${registryHost}/${repository}` },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: {},
    }),
  );
  const signature = sign('sha256', payload, createPrivateKey(key.privatePem)).toString('base64');
  await pushArtifact(client, repository, `${digest.replace(':', '-')}.sig`, {
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      bytes: Buffer.from(
        JSON.stringify({
          architecture: '',
          os: '',
          config: {},
          rootfs: { type: 'layers', diff_ids: [digestOf(payload)] },
        }),
      ),
    },
    layers: [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        bytes: payload,
        annotations: { 'dev.cosignproject.cosign/signature': signature },
      },
    ],
  });
  return digest;
}
