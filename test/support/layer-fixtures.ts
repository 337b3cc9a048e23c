// Image layers built in memory for the scan tests: tar archives with files, links, `../` paths and
// whiteouts; gzip and zstd; a gzip bomb; truncated archives. The secrets planted in them are made
// at run time, so this repository holds no string a secret scanner would (rightly) flag.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { constants as zlibConstants, crc32, gzipSync, zstdCompressSync } from 'node:zlib';
import { pack } from 'tar-stream';

export const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export type FixtureEntry =
  | { path: string; content: string | Buffer; mode?: number }
  | { path: string; type: 'directory' }
  | { path: string; type: 'symlink' | 'link'; target: string };

/** A tar archive of the entries, in order; paths are written exactly as given (`../`, `/`, …). */
export async function tarLayer(entries: readonly FixtureEntry[]): Promise<Buffer> {
  const p = pack();
  const done = collect(p);
  for (const e of entries) {
    if ('content' in e) {
      const body = typeof e.content === 'string' ? Buffer.from(e.content) : e.content;
      await entry(p, { name: e.path, mode: e.mode ?? 0o644, size: body.length }, body);
    } else if (e.type === 'directory') await entry(p, { name: e.path, type: 'directory', mode: 0o755 });
    else await entry(p, { name: e.path, type: e.type, linkname: e.target });
  }
  p.finalize();
  return done;
}

function entry(
  p: ReturnType<typeof pack>,
  header: Parameters<ReturnType<typeof pack>['entry']>[0],
  body?: Buffer,
) {
  return new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) p.entry(header, body, cb);
    else p.entry(header, cb);
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** The whiteout entry that deletes `path` from lower layers. */
export function whiteout(path: string): FixtureEntry {
  const i = path.lastIndexOf('/');
  return { path: `${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, content: '' };
}

/** The opaque whiteout that empties `dir` of lower layers' files. */
export function opaqueWhiteout(dir: string): FixtureEntry {
  return { path: `${dir}/.wh..wh..opq`, content: '' };
}

export const gzip = (tar: Buffer): Buffer => gzipSync(tar);
export const zstd = (tar: Buffer): Buffer =>
  zstdCompressSync(tar, { params: { [zlibConstants.ZSTD_c_compressionLevel]: 3 } });

export function sha256Digest(blob: Buffer): string {
  return `sha256:${createHash('sha256').update(blob).digest('hex')}`;
}

export interface FixtureLayer {
  digest: string;
  mediaType: string;
  blob: Buffer;
  open(): Promise<Readable>;
}

/** A layer as the scan sees one: its digest (of `blob`, unless given) and a stream in 64 KiB chunks. */
export function fixtureLayer(
  blob: Buffer,
  mediaType = LAYER_GZIP,
  digest = sha256Digest(blob),
): FixtureLayer {
  return {
    digest,
    mediaType,
    blob,
    open: async () => Readable.from(chunks(blob, 64 * 1024), { objectMode: false }),
  };
}

function* chunks(blob: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < blob.length; i += size) yield blob.subarray(i, i + size);
}

/** A gzip-compressed tar layer of these entries. */
export async function gzipLayer(
  entries: readonly FixtureEntry[],
  mediaType = LAYER_GZIP,
): Promise<FixtureLayer> {
  return fixtureLayer(gzip(await tarLayer(entries)), mediaType);
}

/** A zstd-compressed tar layer of these entries. */
export async function zstdLayer(entries: readonly FixtureEntry[]): Promise<FixtureLayer> {
  return fixtureLayer(zstd(await tarLayer(entries)), LAYER_ZSTD);
}

/**
 * A gzip bomb: one tar entry `name` of `uncompressedBytes` zeros, about 1/1000 of that compressed.
 * Built as concatenated gzip members (valid gzip) so nothing of the uncompressed size is held.
 */
export async function gzipBomb(uncompressedBytes: number, name = 'zeros.bin'): Promise<Buffer> {
  const header = (await tarLayer([{ path: name, content: Buffer.alloc(0) }])).subarray(0, 512);
  // Rewrite the size field (octal, 11 digits + NUL at offset 124) and the checksum.
  const h = Buffer.from(header);
  h.write(`${uncompressedBytes.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const block = 1024 * 1024;
  const zeros = gzipSync(Buffer.alloc(block), { level: 9 });
  const members = [gzipSync(h)];
  for (let n = 0; n < uncompressedBytes; n += block) members.push(zeros);
  return Buffer.concat(members);
}

/** The first `fraction` of a blob: a transfer cut short. */
export function truncate(blob: Buffer, fraction = 0.6): Buffer {
  return blob.subarray(0, Math.floor(blob.length * fraction));
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomFrom(alphabet: string, n: number): string {
  let s = '';
  for (const b of randomBytes(n)) s += alphabet[b % alphabet.length];
  return s;
}

const base64url = (s: string) => Buffer.from(s).toString('base64url');

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A GitHub (`ghp_`, `gho_`, …) or npm (`npm_`) token: 30 random base62 characters and the base62
 * CRC32 of them, as the real ones are made (a token whose checksum fails is not reported).
 */
export function checksummedToken(prefix: string): string {
  const body = randomFrom(ALNUM, 30);
  let crc = crc32(body);
  let tail = '';
  for (; crc > 0; crc = Math.floor(crc / 62)) tail = BASE62[crc % 62] + tail;
  return `${prefix}${body}${tail.padStart(6, '0')}`;
}

export interface FakeSecrets {
  privateKeyPem: string;
  awsAccessKeyId: string;
  awsSecretAccessKey: string;
  githubToken: string;
  gitlabToken: string;
  npmToken: string;
  dockerAuth: string;
  netrcPassword: string;
  jwt: string;
  highEntropy: string;
}

/** Credentials of the right shapes, random each run (none of them works anywhere). */
export function fakeSecrets(): FakeSecrets {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    awsAccessKeyId: `AKIA${randomFrom(UPPER32, 16)}`,
    awsSecretAccessKey: randomFrom(ALNUM, 40),
    githubToken: checksummedToken('ghp_'),
    gitlabToken: `glpat-${randomFrom(ALNUM, 20)}`,
    npmToken: randomBytes(16)
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'),
    dockerAuth: Buffer.from(`robot:${randomFrom(ALNUM, 24)}`).toString('base64'),
    netrcPassword: randomFrom(ALNUM, 24),
    jwt: `${base64url('{"alg":"HS256","typ":"JWT"}')}.${base64url(`{"sub":"${randomFrom(ALNUM, 12)}"}`)}.${randomBytes(32).toString('base64url')}`,
    // 50 characters, as Django makes them (a 40-character one is an AWS secret key's shape; shorter
    // ones fall under the rule's bar a few times in 1,000, and this test is about the layers).
    highEntropy: `${randomFrom(ALNUM, 18)}9${randomFrom(ALNUM, 31)}`,
  };
}

/** Files of an image layer, each holding one planted secret, and where each should be found. */
export function secretFiles(
  s: FakeSecrets,
): Array<{ path: string; content: string; secret: string; rule: string }> {
  return [
    {
      path: 'root/.ssh/id_ecdsa',
      content: s.privateKeyPem,
      secret: s.privateKeyPem.trimEnd(),
      rule: 'privatekey/PrivateKey',
    },
    {
      path: 'app/.env',
      content: `# deploy\nAWS_ACCESS_KEY_ID=${s.awsAccessKeyId}\n`,
      secret: s.awsAccessKeyId,
      rule: 'aws/AWSAccessKeyID',
    },
    {
      path: 'root/.aws/credentials',
      content: `[default]\naws_secret_access_key = ${s.awsSecretAccessKey}\n`,
      secret: s.awsSecretAccessKey,
      rule: 'aws/AWSSecretAccessKey',
    },
    {
      path: 'srv/config.yaml',
      content: `name: app\ngithub:\n  token: ${s.githubToken}\n`,
      secret: s.githubToken,
      rule: 'github/GITHUB_TOKEN',
    },
    {
      path: 'srv/ci.sh',
      content: `#!/bin/sh\ncurl -H "PRIVATE-TOKEN: ${s.gitlabToken}" https://gitlab.example/api\n`,
      secret: s.gitlabToken,
      rule: 'gitlab/GITLAB_PERSONAL_ACCESS_TOKEN',
    },
    {
      path: 'home/node/.npmrc',
      content: `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${s.npmToken}\n`,
      secret: s.npmToken,
      rule: 'npm/Npmrc_authToken',
    },
    {
      path: 'root/.docker/config.json',
      content: JSON.stringify({ auths: { 'registry.example': { auth: s.dockerAuth } } }, null, 2),
      secret: s.dockerAuth,
      rule: 'pattern/docker-config-auth',
    },
    {
      path: 'root/.netrc',
      content: `machine git.example\nlogin robot\npassword ${s.netrcPassword}\n`,
      secret: s.netrcPassword,
      rule: 'pattern/netrc-password',
    },
    {
      path: 'srv/session.txt',
      content: `Authorization: Bearer ${s.jwt}\n`,
      secret: s.jwt,
      rule: 'pattern/jwt',
    },
    {
      path: 'srv/settings.py',
      content: `DEBUG = False\nSECRET_KEY='${s.highEntropy}'\n`,
      secret: s.highEntropy,
      rule: 'entropy/assignment',
    },
  ];
}

/**
 * A layer of about `bytes` uncompressed, like an application image: mostly binaries (random bytes
 * with NULs), some text and config files, and source-like files; no secrets. For throughput runs.
 */
export async function syntheticImageTar(bytes: number, textShare = 0.4): Promise<Buffer> {
  const entries: FixtureEntry[] = [];
  let total = 0;
  let i = 0;
  const line = (n: number) =>
    `const value${n} = compute(${n}, "${randomFrom(ALNUM, 12)}"); // ${'lorem ipsum dolor sit amet '.repeat(2)}\n`;
  while (total < bytes) {
    i += 1;
    if (randomBytes(1)[0] / 256 < textShare) {
      const lines: string[] = [];
      const size = 2_000 + (randomBytes(2).readUInt16BE() % 30_000);
      for (let n = 0, len = 0; len < size; n++) {
        const l = line(n);
        lines.push(l);
        len += l.length;
      }
      const body = lines.join('');
      entries.push({ path: `usr/lib/app/node_modules/pkg${i % 500}/lib/file${i}.js`, content: body });
      total += body.length + 512;
    } else {
      const size = 20_000 + (randomBytes(3).readUIntBE(0, 3) % 400_000);
      const body = randomBytes(size);
      body[0] = 0x7f;
      body[10] = 0;
      entries.push({ path: `usr/lib/x86_64-linux-gnu/lib${i}.so.1`, content: body });
      total += size + 512;
    }
  }
  return tarLayer(entries);
}
