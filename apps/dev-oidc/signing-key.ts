// The issuer's single ES256 signing key: kept in a JWKS file so that tokens stay verifiable across
// restarts, named by its libtrust key ID, and exportable as a self-signed certificate for the registry.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SigningKey {
  /** libtrust key ID, also used as the JWK `kid` (see libtrustKeyId). */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Private JWK with kid, alg and use, as oidc-provider's `jwks` option wants it. */
  readonly privateJwk: JsonWebKey;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * docker/libtrust's key ID, the only `kid` Debian's docker-registry 2.8 matches against its
 * rootcertbundle (an RFC 7638 thumbprint is "untrusted"): base32 (RFC 4648, no padding) of the first
 * 30 bytes of sha256(DER SubjectPublicKeyInfo), 48 characters in 12 groups of 4 joined by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest()
    .subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

function fromPrivateKey(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const kid = libtrustKeyId(publicKey);
  const jwk = privateKey.export({ format: 'jwk' });
  return { kid, privateKey, publicKey, privateJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
}

/**
 * Loads the key from a JWKS file, or creates one (and writes it there, mode 0600) when the file does
 * not exist. Without a path the key lives only as long as the process. A `kid` stored in the file is
 * ignored: it is always recomputed so that it cannot drift from the key.
 */
export async function loadOrCreateSigningKey(path?: string): Promise<SigningKey> {
  if (path !== undefined) {
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const { keys } = JSON.parse(text) as { keys?: JsonWebKey[] };
      const jwk = keys?.find((k) => k.kty === 'EC' && k.crv === 'P-256' && typeof k.d === 'string');
      if (jwk === undefined) throw new Error(`${path}: no private EC P-256 key in this JWKS`);
      return fromPrivateKey(createPrivateKey({ key: jwk, format: 'jwk' }));
    }
  }
  const key = fromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  if (path !== undefined) {
    await mkdir(dirname(path), { recursive: true });
    // Write then rename, so a concurrent reader never sees half a file.
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ keys: [key.privateJwk] }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, path);
  }
  return key;
}

// --- A minimal DER writer: node:crypto verifies certificates but cannot create them. ---

function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  if (body.length < 0x80) {
    length.push(body.length);
  } else {
    for (let n = body.length; n > 0; n >>= 8) length.unshift(n & 0xff);
    length.unshift(0x80 | length.length);
  }
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const sequence = (...parts: Buffer[]): Buffer => der(0x30, ...parts);

function objectId(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let n = arc >>> 7; n > 0; n >>>= 7) groups.unshift((n & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A positive INTEGER: a leading zero byte keeps a high first bit from meaning "negative". */
const positiveInteger = (bytes: Buffer): Buffer =>
  der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);

const bitString = (bytes: Buffer, unusedBits = 0): Buffer => der(0x03, Buffer.from([unusedBits]), bytes);

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${digits.slice(2)}Z`))
    : der(0x18, Buffer.from(`${digits}Z`));
}

const ECDSA_WITH_SHA256 = sequence(objectId('1.2.840.10045.4.3.2'));
const TRUE = der(0x01, Buffer.from([0xff]));

/**
 * A self-signed CA certificate (PEM) for the signing key, for the registry's `rootcertbundle`. The
 * registry only takes the public key from it (and matches tokens by libtrust kid), but the
 * certificate is complete enough for `openssl x509` and Go's parser.
 */
export function selfSignedCertificatePem(key: SigningKey, commonName: string, now = new Date()): string {
  const name = sequence(der(0x31, sequence(objectId('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + 3650 * 24 * 60 * 60 * 1000);
  const tbs = sequence(
    der(0xa0, positiveInteger(Buffer.from([2]))), // version v3
    positiveInteger(randomBytes(16)),
    ECDSA_WITH_SHA256,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    key.publicKey.export({ format: 'der', type: 'spki' }),
    der(
      0xa3,
      sequence(
        // basicConstraints (critical): CA:TRUE
        sequence(objectId('2.5.29.19'), TRUE, der(0x04, sequence(TRUE))),
        // keyUsage (critical): digitalSignature (bit 0) and keyCertSign (bit 5)
        sequence(objectId('2.5.29.15'), TRUE, der(0x04, bitString(Buffer.from([0x84]), 2))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: key.privateKey, dsaEncoding: 'der' });
  const certificate = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const base64 = certificate
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}
