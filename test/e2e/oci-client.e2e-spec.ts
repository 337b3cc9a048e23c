// libs/oci against a real docker-registry (distribution 2.8): reads, limits, referrers, redirects,
// writes, and the Docker token protocol with tokens issued by the development OIDC issuer.
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import {
  copyManifest,
  MediaType,
  RegistryClient,
  RegistryError,
  isImageIndex,
  sha256Digest,
  type ImageManifest,
  type RegistryConfig,
  type RegistryErrorKind,
} from '../../libs/oci';
import { getToken, startOidcProvider, type OidcProviderHandle } from '../support/oidc';
import {
  addToReferrersTagIndex,
  cosignPayload,
  cosignSign,
  pushArtifactManifest,
  pushCosignSignatures,
  pushImage,
  pushIndex,
} from '../support/oci-images';
import {
  startRegistry,
  startRegistryProxy,
  type RegistryHandle,
  type RegistryProxy,
} from '../support/registry';

const clients: RegistryClient[] = [];
function clientFor(config: RegistryConfig): RegistryClient {
  const client = new RegistryClient({ timeoutMs: 10_000, ...config });
  clients.push(client);
  return client;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Runs `work` and returns the RegistryError it must fail with. */
async function registryError(work: () => Promise<unknown>, kind: RegistryErrorKind): Promise<RegistryError> {
  let caught: unknown;
  try {
    await work();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RegistryError);
  expect((caught as RegistryError).kind).toBe(kind);
  return caught as RegistryError;
}

/** A stream of `bytes` in 64 KiB chunks, so uploads are really streamed. */
function chunked(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536);
    })(),
  );
}

/** A loopback server that stands in for blob storage behind a registry redirect. */
async function startStorage(blobs: Map<string, Buffer>): Promise<{
  host: string;
  seen: { path: string; authorization: boolean }[];
  server: Server;
}> {
  const seen: { path: string; authorization: boolean }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization !== undefined });
    const digest = new URL(req.url ?? '/', 'http://storage').pathname.split('/').pop() ?? '';
    const bytes = blobs.get(digest);
    res.writeHead(bytes === undefined ? 404 : 200).end(bytes);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // `localhost` rather than 127.0.0.1: a host name the client was not configured with.
  return { host: `localhost:${(server.address() as AddressInfo).port}`, seen, server };
}

async function closeServer(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}

describe(RegistryClient.name, () => {
  let registry: RegistryHandle;
  let client: RegistryClient;

  beforeAll(async () => {
    registry = await startRegistry();
    client = clientFor({ host: registry.host, insecure: true });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await registry?.stop();
  });

  describe('reads', () => {
    it('gets an OCI image manifest by tag and by digest, with the digest computed from the bytes', async () => {
      const pushed = await pushImage(registry.host, 'reads/oci', 'v1', { layers: 2 });
      const byTag = await client.getManifest('reads/oci', 'v1');
      expect(byTag.mediaType).toBe(MediaType.OciManifest);
      expect(byTag.digest).toBe(pushed.digest);
      expect(byTag.bytes.equals(pushed.manifestBytes)).toBe(true);
      expect((byTag.json as ImageManifest).layers.map((l) => l.digest)).toEqual(
        pushed.layers.map((l) => l.digest),
      );
      const byDigest = await client.getManifest('reads/oci', pushed.digest);
      expect(byDigest.digest).toBe(pushed.digest);
      expect(await client.resolveTag('reads/oci', 'v1')).toBe(pushed.digest);
      expect(await client.headManifest('reads/oci', 'v1')).toEqual({
        digest: pushed.digest,
        mediaType: MediaType.OciManifest,
        size: pushed.manifestBytes.length,
      });
      expect(await client.headManifest('reads/oci', 'missing')).toBeNull();
      const missing = await registryError(() => client.resolveTag('reads/oci', 'missing'), 'not_found');
      expect(missing.permanent).toBe(true);
      await registryError(() => client.getManifest('reads/nothing-here', 'v1'), 'not_found');
    });

    it('resolves a tag by hashing the manifest when the registry sends no Docker-Content-Digest', async () => {
      const pushed = await pushImage(registry.host, 'reads/nodigest', 'v1');
      const proxy = await startRegistryProxy(registry.host, {
        mapResponse: (_req, upstream) => {
          const headers = { ...upstream.headers };
          delete headers['docker-content-digest'];
          return { ...upstream, headers };
        },
      });
      try {
        const viaProxy = clientFor({ host: proxy.host, insecure: true });
        expect(await viaProxy.headManifest('reads/nodigest', 'v1')).toMatchObject({ digest: undefined });
        expect(await viaProxy.resolveTag('reads/nodigest', 'v1')).toBe(pushed.digest);
        expect(proxy.requests.map((r) => r.method)).toEqual(['HEAD', 'HEAD', 'GET']);
      } finally {
        await proxy.stop();
      }
    });

    it('gets a Docker v2 schema 2 manifest', async () => {
      const pushed = await pushImage(registry.host, 'reads/docker', 'v1', { format: 'docker' });
      const manifest = await client.getManifest('reads/docker', 'v1');
      expect(manifest.mediaType).toBe(MediaType.DockerManifest);
      expect(manifest.digest).toBe(pushed.digest);
      expect(await client.resolveTag('reads/docker', 'v1')).toBe(pushed.digest);
    });

    it('gets an OCI index and a Docker manifest list with every platform', async () => {
      const platforms = ['linux/amd64', 'linux/arm64'];
      for (const format of ['oci', 'docker'] as const) {
        const pushed = await pushIndex(registry.host, `reads/multi-${format}`, 'v1', platforms, { format });
        const index = await client.getManifest(`reads/multi-${format}`, 'v1');
        expect(index.mediaType).toBe(format === 'oci' ? MediaType.OciIndex : MediaType.DockerManifestList);
        expect(index.digest).toBe(pushed.digest);
        if (!isImageIndex(index.json)) throw new Error('expected an index');
        expect(index.json.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual(
          platforms,
        );
        expect(index.json.manifests.map((m) => m.digest)).toEqual(pushed.children.map((c) => c.digest));
        for (const child of pushed.children) {
          const manifest = await client.getManifest(`reads/multi-${format}`, child.digest);
          expect(manifest.digest).toBe(child.digest);
        }
      }
    });

    it('refuses a manifest whose bytes do not hash to the digest (corrupted storage)', async () => {
      const victim = await pushImage(registry.host, 'reads/corrupt', 'v1');
      const other = await pushImage(registry.host, 'reads/corrupt', 'other');
      // The registry keeps manifests as blobs; it serves what is stored without checking.
      await writeFile(registry.blobDataPath(victim.digest), other.manifestBytes);
      const byDigest = await registryError(
        () => client.getManifest('reads/corrupt', victim.digest),
        'digest_mismatch',
      );
      expect(byDigest.message).toContain(victim.digest);
      await registryError(() => client.getManifest('reads/corrupt', 'v1'), 'digest_mismatch');
      await registryError(() => client.resolveTag('reads/corrupt', 'v1'), 'digest_mismatch');
    });

    it('streams a blob and verifies its digest, and refuses a corrupted one at the end of the stream', async () => {
      const pushed = await pushImage(registry.host, 'reads/blob', 'v1', {
        layers: 2,
        layerSize: 3 * 1024 * 1024,
      });
      const [good, bad] = pushed.layers;
      const stream = await client.getBlob('reads/blob', good.digest, {
        maxBytes: 10 * 1024 * 1024,
        size: good.size,
      });
      expect((await drain(stream)).equals(good.bytes)).toBe(true);
      expect(await client.blobExists('reads/blob', good.digest)).toBe(true);
      expect(await client.blobExists('reads/blob', sha256Digest(Buffer.from('absent')))).toBe(false);
      const config = await client.getBlobBytes('reads/blob', pushed.config.digest, { maxBytes: 65536 });
      expect(JSON.parse(config.toString('utf8')).rootfs.diff_ids).toHaveLength(2);

      const tampered = Buffer.from(bad.bytes);
      tampered[tampered.length >> 1] ^= 0xff;
      await writeFile(registry.blobDataPath(bad.digest), tampered);
      const corrupt = await client.getBlob('reads/blob', bad.digest, { maxBytes: 10 * 1024 * 1024 });
      const error = await registryError(() => drain(corrupt), 'digest_mismatch');
      expect(error.permanent).toBe(true);
      await registryError(
        () => client.getBlobBytes('reads/blob', bad.digest, { maxBytes: 10 * 1024 * 1024 }),
        'digest_mismatch',
      );
      await registryError(
        () => client.getBlob('reads/blob', sha256Digest(Buffer.from('absent')), { maxBytes: 1 }),
        'not_found',
      );
    });

    it('refuses names that could change the request path', async () => {
      await registryError(() => client.getManifest('../etc', 'v1'), 'invalid_request');
      await registryError(() => client.getManifest('app', 'v1/../../x'), 'invalid_request');
      await registryError(() => client.getBlob('app', 'sha256:abc', { maxBytes: 1 }), 'invalid_request');
    });
  });

  describe('size limits', () => {
    let pushed: Awaited<ReturnType<typeof pushImage>>;
    let chunkedProxy: RegistryProxy;

    beforeAll(async () => {
      pushed = await pushImage(registry.host, 'limits/app', 'v1', { layers: 1, layerSize: 256 * 1024 });
      // Without Content-Length the limits must hold while reading, not only from the header.
      chunkedProxy = await startRegistryProxy(registry.host, {
        mapResponse: (_req, upstream) => {
          const headers = { ...upstream.headers };
          delete headers['content-length'];
          return { ...upstream, headers };
        },
      });
    });
    afterAll(() => chunkedProxy.stop());

    it('refuses a manifest over maxManifestBytes', async () => {
      for (const host of [registry.host, chunkedProxy.host]) {
        const small = clientFor({ host, insecure: true, maxManifestBytes: 200 });
        const error = await registryError(() => small.getManifest('limits/app', 'v1'), 'too_large');
        expect(error.message).toContain('200 bytes');
        expect((await clientFor({ host, insecure: true }).getManifest('limits/app', 'v1')).digest).toBe(
          pushed.digest,
        );
      }
    });

    it('refuses a blob over maxBytes', async () => {
      const layer = pushed.layers[0];
      await registryError(
        () => client.getBlob('limits/app', layer.digest, { maxBytes: layer.size - 1 }),
        'too_large',
      );
      const viaProxy = clientFor({ host: chunkedProxy.host, insecure: true });
      const stream = await viaProxy.getBlob('limits/app', layer.digest, { maxBytes: 64 * 1024 });
      await registryError(() => drain(stream), 'too_large');
      const exact = await viaProxy.getBlob('limits/app', layer.digest, { maxBytes: layer.size });
      expect((await drain(exact)).length).toBe(layer.size);
    });
  });

  describe('referrers', () => {
    it('falls back to the sha256-<hex> tag index where the referrers API is missing (404 on 2.8)', async () => {
      const image = await pushImage(registry.host, 'refs/app', 'v1');
      expect(await client.referrers('refs/app', image.digest)).toEqual({
        source: 'tag-schema',
        manifests: [],
      });

      const subject = {
        mediaType: MediaType.OciManifest,
        digest: image.digest,
        size: image.manifestBytes.length,
      };
      const bundle = await pushArtifactManifest(registry.host, 'refs/app', 'bundle', {
        artifactType: MediaType.SigstoreBundleV03,
        layers: [{ mediaType: MediaType.SigstoreBundleV03, bytes: Buffer.from('{"mediaType":"bundle"}') }],
        subject,
      });
      const sbom = await pushArtifactManifest(registry.host, 'refs/app', 'sbom', {
        artifactType: 'application/spdx+json',
        layers: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }],
        subject,
      });
      await addToReferrersTagIndex(registry.host, 'refs/app', image.digest, bundle.descriptor);
      await addToReferrersTagIndex(registry.host, 'refs/app', image.digest, sbom.descriptor);

      const all = await client.referrers('refs/app', image.digest);
      expect(all.source).toBe('tag-schema');
      expect(all.manifests.map((m) => m.digest)).toEqual([bundle.digest, sbom.digest]);
      const bundles = await client.referrers('refs/app', image.digest, {
        artifactType: MediaType.SigstoreBundleV03,
      });
      expect(bundles.manifests).toEqual([bundle.descriptor]);
      const referrer = await client.getManifest('refs/app', bundles.manifests[0].digest);
      expect((referrer.json as ImageManifest).subject?.digest).toBe(image.digest);
    });

    it('uses the referrers API where the registry has it, across pages', async () => {
      const image = await pushImage(registry.host, 'refs/api', 'v1');
      const descriptor = (n: number, artifactType: string) => ({
        mediaType: MediaType.OciManifest,
        digest: sha256Digest(Buffer.from(`referrer ${n}`)),
        size: 100 + n,
        artifactType,
      });
      const pages = [
        [descriptor(1, MediaType.SigstoreBundleV03), descriptor(2, 'application/spdx+json')],
        [descriptor(3, MediaType.SigstoreBundleV03)],
      ];
      const api = await startRegistryProxy(registry.host, {
        intercept: (req, res) => {
          const url = new URL(req.url ?? '/', 'http://proxy');
          if (url.pathname !== `/v2/refs/api/referrers/${image.digest}`) return false;
          const page = url.searchParams.get('page') === '2' ? 1 : 0;
          const headers: Record<string, string> = { 'content-type': MediaType.OciIndex };
          if (page === 0) headers.link = `</v2/refs/api/referrers/${image.digest}?page=2>; rel="next"`;
          res
            .writeHead(200, headers)
            .end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: pages[page] }));
          return true;
        },
      });
      try {
        const viaApi = clientFor({ host: api.host, insecure: true });
        const result = await viaApi.referrers('refs/api', image.digest, {
          artifactType: MediaType.SigstoreBundleV03,
        });
        expect(result).toEqual({ source: 'api', manifests: [pages[0][0], pages[1][0]] });
        expect(api.requests.filter((r) => r.path.includes('/referrers/'))[0].path).toContain(
          `artifactType=${encodeURIComponent(MediaType.SigstoreBundleV03)}`,
        );
      } finally {
        await api.stop();
      }
    });

    it("finds cosign's sha256-<hex>.sig signature manifest, and null when there is none", async () => {
      const image = await pushImage(registry.host, 'refs/signed', 'v1');
      expect(await client.tagSchemeManifest('refs/signed', image.digest, 'sig')).toBeNull();
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const payload = cosignPayload(`${registry.host}/refs/signed`, image.digest);
      await pushCosignSignatures(registry.host, 'refs/signed', image.digest, [
        { payload, signature: cosignSign(payload, privateKey) },
      ]);
      const signatures = await client.tagSchemeManifest('refs/signed', image.digest, 'sig');
      expect(signatures).not.toBeNull();
      const layer = (signatures!.json as ImageManifest).layers[0];
      expect(layer.mediaType).toBe(MediaType.CosignSimpleSigning);
      const bytes = await client.getBlobBytes('refs/signed', layer.digest, {
        maxBytes: 65536,
        size: layer.size,
      });
      expect(JSON.parse(bytes.toString('utf8')).critical.image['docker-manifest-digest']).toBe(image.digest);
      const signature = Buffer.from(layer.annotations!['dev.cosignproject.cosign/signature'], 'base64');
      expect(verify('sha256', bytes, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(await client.tagSchemeManifest('refs/signed', image.digest, 'att')).toBeNull();
    });
  });

  describe('redirects', () => {
    it('follows a blob redirect only to a configured redirect host', async () => {
      const pushed = await pushImage(registry.host, 'redirect/app', 'v1');
      const layer = pushed.layers[0];
      const storage = await startStorage(new Map([[layer.digest, layer.bytes]]));
      const front = await startRegistryProxy(registry.host, {
        intercept: (req, res) => {
          if (req.method !== 'GET' || !req.url?.includes('/blobs/sha256:')) return false;
          const digest = req.url.split('/').pop() ?? '';
          res
            .writeHead(307, { location: `http://${storage.host}/bucket/${digest}?X-Signature=s3cr3t` })
            .end();
          return true;
        },
      });
      try {
        const refused = await registryError(
          () =>
            clientFor({ host: front.host, insecure: true }).getBlob('redirect/app', layer.digest, {
              maxBytes: 1e6,
            }),
          'denied',
        );
        expect(refused.message).toContain(storage.host);
        expect(refused.message).not.toContain('s3cr3t');
        expect(storage.seen).toHaveLength(0);

        const allowed = clientFor({ host: front.host, insecure: true, redirectHosts: [storage.host] });
        const stream = await allowed.getBlob('redirect/app', layer.digest, {
          maxBytes: 1e6,
          size: layer.size,
        });
        expect((await drain(stream)).equals(layer.bytes)).toBe(true);
        expect(storage.seen).toHaveLength(1);
      } finally {
        await front.stop();
        await closeServer(storage.server);
      }
    });
  });

  describe('unavailable registries', () => {
    it('reports refused connections, timeouts and 5xx as transient', async () => {
      const port = (await startStorage(new Map())).server;
      const closedPort = (port.address() as AddressInfo).port;
      await closeServer(port);
      const refused = await registryError(
        () => clientFor({ host: `127.0.0.1:${closedPort}`, insecure: true }).getManifest('app', 'v1'),
        'unavailable',
      );
      expect(refused.permanent).toBe(false);
      expect(refused.message).toContain('ECONNREFUSED');

      const broken = await startRegistryProxy(registry.host, {
        intercept: (req, res) => {
          if (req.url?.includes('/stall/')) return true; // never answers
          if (req.url?.includes('/down/')) {
            res
              .writeHead(503, { 'content-type': 'application/json' })
              .end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] }));
            return true;
          }
          return false;
        },
      });
      try {
        const impatient = clientFor({ host: broken.host, insecure: true, timeoutMs: 300 });
        const stalled = await registryError(() => impatient.getManifest('stall/app', 'v1'), 'unavailable');
        expect(stalled.permanent).toBe(false);
        expect(stalled.message).toContain('300 ms');
        const down = await registryError(() => impatient.getManifest('down/app', 'v1'), 'unavailable');
        expect(down).toMatchObject({ permanent: false, status: 503, registryCode: 'UNAVAILABLE' });
      } finally {
        await broken.stop();
      }
    });
  });

  describe('writes', () => {
    it('copies nothing of a blob corrupted in the source: the copy fails and the target never holds it', async () => {
      const pushed = await pushImage(registry.host, 'writes/corrupt-src', 'v1', {
        layers: 1,
        layerSize: 2 * 1024 * 1024,
      });
      const [layer] = pushed.layers;
      const tampered = Buffer.from(layer.bytes);
      tampered[tampered.length >> 1] ^= 0xff;
      await writeFile(registry.blobDataPath(layer.digest), tampered);
      // Another registry: within one, the copier mounts, and a mount moves no bytes to check.
      const other = await startRegistry();
      const target = new RegistryClient({ host: other.host, insecure: true });
      let error: unknown;
      try {
        await copyManifest(
          { client, repository: 'writes/corrupt-src' },
          { client: target, repository: 'writes/corrupt-dst' },
          pushed.digest,
        );
      } catch (e) {
        error = e;
      }
      try {
        // Refused by our stream check, or by the registry's own digest check on the final PUT.
        expect(error).toBeInstanceOf(RegistryError);
        expect(await target.blobExists('writes/corrupt-dst', layer.digest)).toBe(false);
        expect(await target.headManifest('writes/corrupt-dst', pushed.digest)).toBeNull();
      } finally {
        target.close();
        await other.stop();
      }
    });

    it('uploads a streamed blob, refuses a stream that does not match its digest, and reads it back', async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 123);
      const digest = sha256Digest(bytes);
      await client.blobUpload('writes/blobs', digest, bytes.length, chunked(bytes));
      expect(await client.blobExists('writes/blobs', digest)).toBe(true);
      const back = await client.getBlob('writes/blobs', digest, {
        maxBytes: bytes.length,
        size: bytes.length,
      });
      expect(sha256Digest(await drain(back))).toBe(digest);

      const other = randomBytes(1024);
      const otherDigest = sha256Digest(Buffer.concat([other, Buffer.from('x')]));
      await registryError(
        () => client.blobUpload('writes/blobs', otherDigest, other.length, chunked(other)),
        'digest_mismatch',
      );
      await registryError(
        () => client.blobUpload('writes/blobs', otherDigest, other.length + 1, chunked(other)),
        'digest_mismatch',
      );
      expect(await client.blobExists('writes/blobs', otherDigest)).toBe(false);
      const failing = new Readable({
        read() {
          this.destroy(new RegistryError('unavailable', 'source broke off'));
        },
      });
      const passedOn = await registryError(
        () => client.blobUpload('writes/blobs', otherDigest, 10, failing),
        'unavailable',
      );
      expect(passedOn.message).toBe('source broke off');
    });

    it('mounts blobs across repositories and stores a manifest that reads back with the same digest', async () => {
      const source = await pushImage(registry.host, 'writes/source', 'v1', { layers: 2 });
      for (const blob of [source.config, ...source.layers]) {
        expect(await client.mountBlob('writes/target', blob.digest, 'writes/source')).toBe(true);
      }
      expect(
        await client.mountBlob('writes/target', sha256Digest(Buffer.from('nowhere')), 'writes/source'),
      ).toBe(false);
      const original = await client.getManifest('writes/source', 'v1');
      const digest = await client.putManifest(
        'writes/target',
        'promoted',
        original.bytes,
        original.mediaType,
      );
      expect(digest).toBe(source.digest);
      const copy = await client.getManifest('writes/target', digest);
      expect(copy.bytes.equals(original.bytes)).toBe(true);
      expect(await client.resolveTag('writes/target', 'promoted')).toBe(source.digest);

      await registryError(
        () =>
          client.putManifest(
            'writes/target',
            sha256Digest(Buffer.from('x')),
            original.bytes,
            original.mediaType,
          ),
        'digest_mismatch',
      );
      await registryError(
        () => client.putManifest('writes/target', 'wrong-type', original.bytes, MediaType.OciIndex),
        'invalid_request',
      );
      const missingBlob = Buffer.from(
        JSON.stringify({
          ...JSON.parse(original.bytes.toString('utf8')),
          layers: [
            { mediaType: MediaType.OciLayerTarGzip, digest: sha256Digest(Buffer.from('gone')), size: 4 },
          ],
        }),
      );
      const refused = await registryError(
        () => client.putManifest('writes/target', 'broken', missingBlob, MediaType.OciManifest),
        'protocol',
      );
      expect(refused.registryCode).toBe('MANIFEST_BLOB_UNKNOWN');
    });

    it('copies an index with every platform by streaming blobs between repositories', async () => {
      const source = await pushIndex(registry.host, 'writes/multi', 'v1', ['linux/amd64', 'linux/arm64']);
      for (const child of source.children) {
        const manifest = await client.getManifest('writes/multi', child.digest);
        const image = manifest.json as ImageManifest;
        for (const blob of [image.config, ...image.layers]) {
          if (await client.blobExists('writes/multi-copy', blob.digest)) continue;
          const stream = await client.getBlob('writes/multi', blob.digest, {
            maxBytes: 1e8,
            size: blob.size,
          });
          await client.blobUpload('writes/multi-copy', blob.digest, blob.size, stream);
        }
        await client.putManifest('writes/multi-copy', child.digest, manifest.bytes, manifest.mediaType);
      }
      const index = await client.getManifest('writes/multi', 'v1');
      expect(await client.putManifest('writes/multi-copy', 'v1', index.bytes, index.mediaType)).toBe(
        source.digest,
      );
      expect(await client.resolveTag('writes/multi-copy', 'v1')).toBe(source.digest);
    });
  });

  describe('basic auth', () => {
    it('answers a Basic challenge with the configured username and password, then sends them up front', async () => {
      const pushed = await pushImage(registry.host, 'basic/app', 'v1');
      const expected = `Basic ${Buffer.from('reader:pa55word').toString('base64')}`;
      // distribution 2.8's htpasswd needs bcrypt, which nothing here writes: a proxy plays the gate.
      const gate = await startRegistryProxy(registry.host, {
        intercept: (req, res) => {
          if (req.headers.authorization === expected) return false;
          res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
          return true;
        },
      });
      try {
        const reader = clientFor({
          host: gate.host,
          insecure: true,
          credentials: { username: 'reader', password: 'pa55word' },
        });
        expect((await reader.getManifest('basic/app', 'v1')).digest).toBe(pushed.digest);
        expect(await reader.resolveTag('basic/app', 'v1')).toBe(pushed.digest);
        expect(gate.requests.map((r) => r.authorization)).toEqual([false, true, true, true]);

        const wrong = clientFor({
          host: gate.host,
          insecure: true,
          credentials: { username: 'reader', password: 'guess' },
        });
        const refused = await registryError(() => wrong.getManifest('basic/app', 'v1'), 'unauthorized');
        expect(refused.message).not.toContain('guess');
        const anonymous = clientFor({ host: gate.host, insecure: true });
        const none = await registryError(() => anonymous.getManifest('basic/app', 'v1'), 'unauthorized');
        expect(none.message).toContain('configure credentials');
      } finally {
        await gate.stop();
      }
    });
  });

  describe('token auth', () => {
    const service = 'airlock-registry';
    const promoter = { username: 'airlock-promoter', password: 'airlock-promoter-secret' };
    let dir: string;
    let oidc: OidcProviderHandle;
    let realm: Server;
    let realmUrl: string;
    let secure: RegistryHandle;
    const realmRequests: { authorization: boolean; scopes: string[] }[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'airlock-oci-auth-'));
      const certPath = join(dir, 'registry-ca.pem');
      oidc = await startOidcProvider({ registryCertOut: certPath });
      // The registry's realm: the Docker token protocol (GET, Basic credentials) in front of the
      // OIDC issuer's client_credentials grant, which issues the registry tokens.
      realm = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://realm');
        const scopes = url.searchParams.getAll('scope');
        const header = req.headers.authorization;
        realmRequests.push({ authorization: header !== undefined, scopes });
        const [user, password] = header?.startsWith('Basic ')
          ? Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')
          : [];
        if (user === undefined) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"details":"credentials required"}');
          return;
        }
        getToken(oidc.issuer, user, {
          clientSecret: password,
          resource: url.searchParams.get('service') ?? '',
          scope: scopes.join(' '),
        }).then(
          (token) =>
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ token, expires_in: 300 })),
          () =>
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}'),
        );
      });
      realm.listen(0, '127.0.0.1');
      await once(realm, 'listening');
      realmUrl = `http://127.0.0.1:${(realm.address() as AddressInfo).port}/token`;
      secure = await startRegistry({
        auth: { realm: realmUrl, service, issuer: oidc.issuer, rootCertBundlePath: certPath },
      });
      expect(await readFile(certPath, 'utf8')).toContain('BEGIN CERTIFICATE');
    });

    afterAll(async () => {
      await secure?.stop();
      if (realm !== undefined) await closeServer(realm);
      await oidc?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    const supplier = (scope: string) =>
      getToken(oidc.issuer, promoter.username, { resource: service, scope });

    it('gets a token from a configured realm with credentials, caches it per scope, and never leaks it', async () => {
      const pushed = await pushImage(secure.host, 'secure/app', 'v1', { auth: { credentials: promoter } });
      const authed = clientFor({
        host: secure.host,
        insecure: true,
        credentials: promoter,
        tokenRealms: [realmUrl],
      });
      const before = realmRequests.length;
      expect((await authed.getManifest('secure/app', 'v1')).digest).toBe(pushed.digest);
      expect(realmRequests.slice(before)).toEqual([
        { authorization: true, scopes: ['repository:secure/app:pull'] },
      ]);
      const stream = await authed.getBlob('secure/app', pushed.layers[0].digest, { maxBytes: 1e6 });
      expect((await drain(stream)).equals(pushed.layers[0].bytes)).toBe(true);
      expect(await authed.resolveTag('secure/app', 'v1')).toBe(pushed.digest);
      expect(realmRequests.length).toBe(before + 1);

      const origin = clientFor({
        host: secure.host,
        insecure: true,
        credentials: promoter,
        tokenRealms: [new URL(realmUrl).origin],
      });
      expect((await origin.getManifest('secure/app', 'v1')).digest).toBe(pushed.digest);
    });

    it('never sends credentials to a realm that is not configured, nor anonymously', async () => {
      await pushImage(secure.host, 'secure/app', 'v2', { auth: { credentials: promoter } });
      const before = realmRequests.length;
      for (const tokenRealms of [[], ['http://127.0.0.1:9/token'], [`${realmUrl}-other`]]) {
        const c = clientFor({ host: secure.host, insecure: true, credentials: promoter, tokenRealms });
        const error = await registryError(() => c.getManifest('secure/app', 'v2'), 'unauthorized');
        expect(error.message).toContain('tokenRealms');
        expect(error.message).not.toContain(promoter.password);
      }
      const anonymousUnconfigured = clientFor({ host: secure.host, insecure: true });
      await registryError(() => anonymousUnconfigured.getManifest('secure/app', 'v2'), 'unauthorized');
      expect(realmRequests.length).toBe(before);

      const anonymous = clientFor({ host: secure.host, insecure: true, tokenRealms: [realmUrl] });
      await registryError(() => anonymous.getManifest('secure/app', 'v2'), 'unauthorized');
      expect(realmRequests.slice(before)).toEqual([
        { authorization: false, scopes: ['repository:secure/app:pull'] },
      ]);

      const wrong = { username: promoter.username, password: 'not-the-secret' };
      const refused = await registryError(
        () =>
          clientFor({
            host: secure.host,
            insecure: true,
            credentials: wrong,
            tokenRealms: [realmUrl],
          }).getManifest('secure/app', 'v2'),
        'unauthorized',
      );
      expect(refused.message).not.toContain('not-the-secret');
    });

    it('uses a token supplier (OIDC-issued registry tokens) for reads and writes', async () => {
      const pushed = await pushImage(secure.host, 'secure/src', 'v1', { auth: { credentials: promoter } });
      const before = realmRequests.length;
      const scopes: string[] = [];
      const promoterClient = clientFor({
        host: secure.host,
        insecure: true,
        credentials: { tokenSupplier: async (scope) => (scopes.push(scope), supplier(scope)) },
      });
      const manifest = await promoterClient.getManifest('secure/src', 'v1');
      const image = manifest.json as ImageManifest;
      expect(await promoterClient.mountBlob('secure/dst', image.config.digest, 'secure/src')).toBe(true);
      for (const layer of image.layers) {
        // Streamed from the anonymous registry's point of view: through the client, not a file.
        const stream = await promoterClient.getBlob('secure/src', layer.digest, {
          maxBytes: 1e6,
          size: layer.size,
        });
        await promoterClient.blobUpload('secure/dst', layer.digest, layer.size, stream);
      }
      expect(await promoterClient.putManifest('secure/dst', 'v1', manifest.bytes, manifest.mediaType)).toBe(
        pushed.digest,
      );
      expect(await promoterClient.resolveTag('secure/dst', 'v1')).toBe(pushed.digest);
      expect(await promoterClient.referrers('secure/src', pushed.digest)).toEqual({
        source: 'tag-schema',
        manifests: [],
      });
      expect(realmRequests.length).toBe(before);
      // One token for the first pull; the mount's token (dst pull,push + src pull) then covers
      // every later read and write. Distribution lists actions in any order (`push,pull`).
      const normalised = scopes.map((scope) =>
        scope
          .split(' ')
          .map((s) => s.replace(/push,pull$/, 'pull,push'))
          .sort(),
      );
      expect(normalised).toEqual([
        ['repository:secure/src:pull'],
        ['repository:secure/dst:pull,push', 'repository:secure/src:pull'],
      ]);

      const fixed = clientFor({
        host: secure.host,
        insecure: true,
        credentials: { bearerToken: await supplier('repository:secure/src:pull') },
      });
      expect((await fixed.getManifest('secure/src', 'v1')).digest).toBe(pushed.digest);
      const denied = await registryError(() => fixed.getManifest('secure/dst', 'v1'), 'denied');
      expect(denied.message).toContain('does not grant');
    });

    it('sends no credentials to a redirect target', async () => {
      const pushed = await pushImage(secure.host, 'secure/redirect', 'v1', {
        auth: { credentials: promoter },
      });
      const layer = pushed.layers[0];
      const storage = await startStorage(new Map([[layer.digest, layer.bytes]]));
      const front = await startRegistryProxy(secure.host, {
        intercept: (req, res) => {
          // Redirect only requests that carry a token, as a registry would after authorising them.
          if (req.method !== 'GET' || !req.url?.includes('/blobs/sha256:') || !req.headers.authorization)
            return false;
          res.writeHead(307, { location: `http://${storage.host}/bucket/${layer.digest}` }).end();
          return true;
        },
      });
      try {
        const c = clientFor({
          host: front.host,
          insecure: true,
          credentials: { tokenSupplier: supplier },
          redirectHosts: [storage.host],
        });
        const stream = await c.getBlob('secure/redirect', layer.digest, { maxBytes: 1e6 });
        expect((await drain(stream)).equals(layer.bytes)).toBe(true);
        expect(front.requests.some((r) => r.authorization)).toBe(true);
        expect(storage.seen).toEqual([{ path: `/bucket/${layer.digest}`, authorization: false }]);
      } finally {
        await front.stop();
        await closeServer(storage.server);
      }
    });
  });
});
