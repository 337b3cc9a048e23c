// Test images without Docker: OCI image layouts written by hand (ustar + gzip + JSON), pushed to a
// registry with `skopeo copy`; and artifacts (signatures, bundles, referrer indexes) pushed over
// plain HTTP with the distribution API. Independent of libs/oci, so tests of it prove something.
import { execFile } from 'node:child_process';
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

export interface TestDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface TestBlob {
  digest: string;
  size: number;
  bytes: Buffer;
}

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const blob = (bytes: Buffer): TestBlob => ({ digest: sha256(bytes), size: bytes.length, bytes });

// --- A minimal ustar writer: regular files only, fixed owner and mtime, so output is reproducible.

/** A ustar header for one regular file (also used by the benchmarks' streamed random layers). */
export function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  let path = name;
  let prefix = '';
  if (Buffer.byteLength(path) > 100) {
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100)
      throw new Error(`tar: name too long: ${name}`);
    prefix = path.slice(0, cut);
    path = path.slice(cut + 1);
  }
  const field = (value: string, offset: number, length: number): void => {
    header.write(value, offset, length, 'utf8');
  };
  const octal = (value: number, offset: number, length: number): void =>
    field(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  field(path, 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  field('        ', 148, 8); // checksum counts as spaces while summing
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  field('root', 265, 32);
  field('root', 297, 32);
  field(prefix, 345, 155);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** A tar archive of the given files (paths relative, `/`-separated). */
export function tarArchive(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    parts.push(tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// --- Images in memory.

export interface TestLayer extends TestBlob {
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  files: Record<string, string | Buffer>;
}

export interface BuiltImage {
  digest: string;
  manifestBytes: Buffer;
  manifest: { schemaVersion: 2; mediaType: string; config: TestDescriptor; layers: TestDescriptor[] };
  config: TestBlob;
  layers: TestLayer[];
  platform: { os: string; architecture: string; variant?: string };
}

export interface ImageOptions {
  /** Number of layers with one random file each (ignored when `files` is given); default 1. */
  layers?: number;
  /** Size of each random file; default 1 KiB. */
  layerSize?: number;
  /** One record per layer: path → content. */
  files?: Record<string, string | Buffer>[];
  /** `os/arch[/variant]`; default linux/amd64. */
  platform?: string;
  labels?: Record<string, string>;
  /** zlib level of the layers' gzip (0 stores: fast for big random layers); default zlib's. */
  gzipLevel?: number;
}

function parsePlatform(platform: string): BuiltImage['platform'] {
  const [os, architecture, variant] = platform.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function buildImage(options: ImageOptions = {}): BuiltImage {
  const platform = parsePlatform(options.platform ?? 'linux/amd64');
  const layerFiles =
    options.files ??
    Array.from({ length: options.layers ?? 1 }, (_, i) => ({
      [`data/layer-${i}.bin`]: randomBytes(options.layerSize ?? 1024),
    }));
  const layers: TestLayer[] = layerFiles.map((files) => {
    const tar = tarArchive(files);
    const gzipped =
      options.gzipLevel === undefined ? gzipSync(tar) : gzipSync(tar, { level: options.gzipLevel });
    return { ...blob(gzipped), diffId: sha256(tar), files };
  });
  const config = blob(
    Buffer.from(
      JSON.stringify({
        ...platform,
        created: '2024-01-01T00:00:00Z',
        config: options.labels === undefined ? {} : { Labels: options.labels },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'airlock test' })),
      }),
    ),
  );
  const manifest: BuiltImage['manifest'] = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { digest: sha256(manifestBytes), manifestBytes, manifest, config, layers, platform };
}

// --- OCI layouts and skopeo.

async function writeLayout(dir: string, blobs: Buffer[], top: TestDescriptor, tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const bytes of blobs) {
    await writeFile(join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
  }
  const entry = { ...top, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

/** How skopeo and the HTTP helpers authenticate; default anonymous. */
export interface PushAuth {
  /** skopeo runs the Docker token protocol with these (`--dest-creds`). */
  credentials?: { username: string; password: string };
  /** A registry token used as is. */
  bearerToken?: string;
}

export interface PushOptions {
  /** `docker`: skopeo converts to Docker v2 schema 2 (digests then come from the registry). */
  format?: 'oci' | 'docker';
  auth?: PushAuth;
}

function skopeoAuth(prefix: 'src' | 'dest', auth: PushAuth | undefined): string[] {
  if (auth?.credentials !== undefined) {
    return [`--${prefix}-creds`, `${auth.credentials.username}:${auth.credentials.password}`];
  }
  if (auth?.bearerToken !== undefined) return [`--${prefix}-registry-token`, auth.bearerToken];
  return [`--${prefix}-no-creds`];
}

async function skopeo(args: string[]): Promise<Buffer> {
  try {
    const { stdout } = await run('skopeo', args, {
      encoding: 'buffer',
      maxBuffer: 16 * 1024 * 1024,
      timeout: 60_000,
    });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`skopeo ${args[0]} failed: ${e.stderr?.toString('utf8') ?? e.message}`);
  }
}

async function withLayout<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-oci-layout-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function copyLayout(
  dir: string,
  tag: string,
  host: string,
  repo: string,
  options: PushOptions,
  all: boolean,
) {
  const args = ['copy', '--quiet', '--dest-tls-verify=false', ...skopeoAuth('dest', options.auth)];
  if (all) args.push('--all');
  args.push(...(options.format === 'docker' ? ['--format', 'v2s2'] : ['--preserve-digests']));
  args.push(`oci:${dir}:${tag}`, `docker://${host}/${repo}:${tag}`);
  await skopeo(args);
}

/** The manifest bytes the registry now holds for a tag, read with skopeo (so auth works the same). */
export async function inspectRaw(
  host: string,
  repo: string,
  reference: string,
  auth?: PushAuth,
): Promise<Buffer> {
  const separator = reference.startsWith('sha256:') ? '@' : ':';
  return skopeo([
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...skopeoAuth('src', auth).map((a) => a.replace('--src-', '--')),
    `docker://${host}/${repo}${separator}${reference}`,
  ]);
}

export interface PushedImage {
  digest: string;
  manifestBytes: Buffer;
  manifest: Record<string, any>;
  config: TestBlob;
  layers: TestLayer[];
}

/** Builds an image (random or given layers) and pushes it with skopeo as `repo:tag`. */
export async function pushImage(
  host: string,
  repo: string,
  tag: string,
  options: ImageOptions & PushOptions = {},
): Promise<PushedImage> {
  const image = buildImage(options);
  await withLayout(async (dir) => {
    const blobs = [image.config.bytes, ...image.layers.map((l) => l.bytes), image.manifestBytes];
    await writeLayout(
      dir,
      blobs,
      { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifestBytes.length },
      tag,
    );
    await copyLayout(dir, tag, host, repo, options, false);
  });
  if (options.format !== 'docker') {
    return {
      digest: image.digest,
      manifestBytes: image.manifestBytes,
      manifest: image.manifest,
      config: image.config,
      layers: image.layers,
    };
  }
  const manifestBytes = await inspectRaw(host, repo, tag, options.auth);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Record<string, any>;
  // The conversion rewrites the config; layers keep their compressed bytes and digests.
  return {
    digest: sha256(manifestBytes),
    manifestBytes,
    manifest,
    config: image.config,
    layers: image.layers,
  };
}

/** A layer given as its compressed bytes: whatever the scan tests need (links, `../`, bombs). */
export interface RawLayer {
  bytes: Buffer;
  mediaType: string;
}

/**
 * Pushes an image made of these layer blobs with skopeo, as they are (skopeo does not look inside
 * layers). The config's diff_ids are placeholders: nothing here unpacks the image.
 */
export async function pushLayers(
  host: string,
  repo: string,
  tag: string,
  layers: RawLayer[],
): Promise<{ digest: string; size: number }> {
  const config = blob(
    Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) },
      }),
    ),
  );
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.bytes), size: l.bytes.length })),
    }),
  );
  const digest = sha256(manifestBytes);
  await withLayout(async (dir) => {
    await writeLayout(
      dir,
      [config.bytes, ...layers.map((l) => l.bytes), manifestBytes],
      { mediaType: OCI_MANIFEST, digest, size: manifestBytes.length },
      tag,
    );
    await copyLayout(dir, tag, host, repo, {}, false);
  });
  return { digest, size: manifestBytes.length };
}

export interface PushedIndex {
  digest: string;
  manifestBytes: Buffer;
  manifest: Record<string, any>;
  children: { platform: string; digest: string; image: BuiltImage }[];
}

/** One image per platform under one index (or Docker manifest list), pushed with `skopeo --all`. */
export async function pushIndex(
  host: string,
  repo: string,
  tag: string,
  platforms: string[],
  options: Omit<ImageOptions, 'platform'> & PushOptions = {},
): Promise<PushedIndex> {
  const images = platforms.map((platform) => ({ platform, image: buildImage({ ...options, platform }) }));
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map(({ image }) => ({
      mediaType: OCI_MANIFEST,
      digest: image.digest,
      size: image.manifestBytes.length,
      platform: image.platform,
    })),
  };
  const indexBytes = Buffer.from(JSON.stringify(index));
  await withLayout(async (dir) => {
    const blobs = images.flatMap(({ image }) => [
      image.config.bytes,
      ...image.layers.map((l) => l.bytes),
      image.manifestBytes,
    ]);
    blobs.push(indexBytes);
    await writeLayout(
      dir,
      blobs,
      { mediaType: OCI_INDEX, digest: sha256(indexBytes), size: indexBytes.length },
      tag,
    );
    await copyLayout(dir, tag, host, repo, options, true);
  });
  if (options.format !== 'docker') {
    return {
      digest: sha256(indexBytes),
      manifestBytes: indexBytes,
      manifest: index,
      children: images.map(({ platform, image }) => ({ platform, digest: image.digest, image })),
    };
  }
  const manifestBytes = await inspectRaw(host, repo, tag, options.auth);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    mediaType: string;
    manifests: TestDescriptor[];
  };
  if (manifest.mediaType !== DOCKER_MANIFEST_LIST)
    throw new Error(`expected a manifest list, got ${manifest.mediaType}`);
  return {
    digest: sha256(manifestBytes),
    manifestBytes,
    manifest,
    children: images.map(({ platform, image }, i) => ({
      platform,
      digest: manifest.manifests[i].digest,
      image,
    })),
  };
}

// --- Artifacts over plain HTTP (distribution API), for signatures, bundles and referrer indexes.

function authHeaders(auth: PushAuth | undefined): Record<string, string> {
  if (auth?.bearerToken !== undefined) return { authorization: `Bearer ${auth.bearerToken}` };
  if (auth?.credentials !== undefined) {
    const { username, password } = auth.credentials;
    return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  }
  return {};
}

/** Uploads bytes as a blob (POST, then monolithic PUT), unless the repository has it already. */
export async function pushBlob(
  host: string,
  repo: string,
  bytes: Buffer,
  auth?: PushAuth,
): Promise<TestBlob> {
  const b = blob(bytes);
  const base = `http://${host}/v2/${repo}/blobs`;
  const head = await fetch(`${base}/${b.digest}`, { method: 'HEAD', headers: authHeaders(auth) });
  if (head.status === 200) return b;
  const start = await fetch(`${base}/uploads/`, { method: 'POST', headers: authHeaders(auth) });
  if (start.status !== 202)
    throw new Error(`starting a blob upload to ${repo}: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...authHeaders(auth), 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (put.status !== 201)
    throw new Error(`uploading ${b.digest} to ${repo}: ${put.status} ${await put.text()}`);
  return b;
}

/** PUTs manifest bytes under a tag or digest; returns their digest. */
export async function pushRawManifest(
  host: string,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  auth?: PushAuth,
): Promise<string> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...authHeaders(auth), 'content-type': mediaType },
    body: bytes,
  });
  if (response.status !== 201) {
    throw new Error(`storing manifest ${repo}:${reference}: ${response.status} ${await response.text()}`);
  }
  return sha256(bytes);
}

export interface ArtifactLayer {
  mediaType: string;
  bytes: Buffer;
  annotations?: Record<string, string>;
}

export interface ArtifactOptions {
  /** Default: the empty config (`{}`, application/vnd.oci.empty.v1+json). */
  config?: { mediaType: string; bytes: Buffer };
  layers: ArtifactLayer[];
  subject?: TestDescriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
  auth?: PushAuth;
}

export interface PushedArtifact {
  digest: string;
  manifestBytes: Buffer;
  manifest: Record<string, any>;
  /** A descriptor of the manifest, with artifactType, for an index. */
  descriptor: TestDescriptor;
}

/** Uploads config and layers, then an OCI image manifest for them under `reference`. */
export async function pushArtifactManifest(
  host: string,
  repo: string,
  reference: string,
  options: ArtifactOptions,
): Promise<PushedArtifact> {
  const config = options.config ?? { mediaType: OCI_EMPTY, bytes: Buffer.from('{}') };
  const configBlob = await pushBlob(host, repo, config.bytes, options.auth);
  const layers: TestDescriptor[] = [];
  for (const layer of options.layers) {
    const b = await pushBlob(host, repo, layer.bytes, options.auth);
    layers.push({
      mediaType: layer.mediaType,
      digest: b.digest,
      size: b.size,
      ...(layer.annotations !== undefined ? { annotations: layer.annotations } : {}),
    });
  }
  const manifest: Record<string, any> = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(options.artifactType !== undefined ? { artifactType: options.artifactType } : {}),
    config: { mediaType: config.mediaType, digest: configBlob.digest, size: configBlob.size },
    layers,
    ...(options.subject !== undefined ? { subject: options.subject } : {}),
    ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const digest = await pushRawManifest(host, repo, reference, manifestBytes, OCI_MANIFEST, options.auth);
  return {
    digest,
    manifestBytes,
    manifest,
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest,
      size: manifestBytes.length,
      ...(options.artifactType !== undefined ? { artifactType: options.artifactType } : {}),
      ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
    },
  };
}

/**
 * Adds `descriptor` to the referrers fallback index tagged `sha256-<hex>` of `subjectDigest` (the
 * OCI 1.1 tag schema, as @sigstore/oci does on registries without the referrers API).
 */
export async function addToReferrersTagIndex(
  host: string,
  repo: string,
  subjectDigest: string,
  descriptor: TestDescriptor,
  auth?: PushAuth,
): Promise<string> {
  const tag = subjectDigest.replace(':', '-');
  const existing = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { ...authHeaders(auth), accept: OCI_INDEX },
  });
  let manifests: TestDescriptor[] = [];
  if (existing.status === 200) {
    manifests = ((await existing.json()) as { manifests: TestDescriptor[] }).manifests;
  } else {
    await existing.body?.cancel();
  }
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...manifests, descriptor] };
  return pushRawManifest(host, repo, tag, Buffer.from(JSON.stringify(index)), OCI_INDEX, auth);
}

/** cosign's simplesigning payload for an image. */
export function cosignPayload(
  dockerReference: string,
  manifestDigest: string,
  optional: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': manifestDigest },
        type: 'cosign container image signature',
      },
      optional,
    }),
  );
}

/** base64 DER ECDSA P-256/SHA-256 signature of a payload, as cosign puts in its annotation. */
export function cosignSign(payload: Buffer, privateKey: KeyObject): string {
  return sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' }).toString('base64');
}

/**
 * Pushes cosign key-based signatures of `imageDigest` as the manifest tagged `sha256-<hex>.sig`,
 * byte-compatible in shape with what cosign and containers/image write.
 */
export async function pushCosignSignatures(
  host: string,
  repo: string,
  imageDigest: string,
  signatures: { payload: Buffer; signature: string; annotations?: Record<string, string> }[],
  auth?: PushAuth,
): Promise<PushedArtifact> {
  const config = {
    architecture: '',
    os: '',
    config: {},
    rootfs: { type: 'layers', diff_ids: signatures.map((s) => sha256(s.payload)) },
  };
  return pushArtifactManifest(host, repo, `${imageDigest.replace(':', '-')}.sig`, {
    config: { mediaType: OCI_CONFIG, bytes: Buffer.from(JSON.stringify(config)) },
    layers: signatures.map((s) => ({
      mediaType: COSIGN_SIMPLESIGNING,
      bytes: s.payload,
      annotations: { [COSIGN_SIGNATURE_ANNOTATION]: s.signature, ...s.annotations },
    })),
    auth,
  });
}
