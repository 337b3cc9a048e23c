import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Airlock's signing keys as verifiers see them: the current key and the earlier ones kept after a
 * rotation, each with the period it signed in. Plain code (no Nest): the API, the worker and the
 * CLI's offline verifiers judge signatures with the same selection.
 *
 * **Key id.** A key is named by the SHA-256 fingerprint of its SSH wire encoding, as
 * `ssh-keygen -l` prints it: `SHA256:` + unpadded base64 (e.g. `SHA256:Xx…`). It is the id DSSE
 * tooling derives for a key by default (go-securesystemslib's `SHA256KeyID`, which cosign uses): a
 * DSSE envelope whose `keyid` names the key any other way is skipped by `cosign verify-attestation
 * --key`. Checkpoints and attestations signed before key ids were unified carry the hex SHA-256 of
 * the DER SubjectPublicKeyInfo instead (`spkiSha256`); selection accepts that form too.
 */

/** JWS name of the one algorithm: ECDSA P-256 with SHA-256, DER signatures. */
export const SIGNING_KEY_ALGORITHM = 'ES256';

/** One key of `GET /v1/keys` (and of the `--keys` file the CLI reads). */
export interface PublishedKey {
  /** `SHA256:<base64>`: what checkpoints' `keyId` and DSSE envelopes' `keyid` name. */
  keyId: string;
  algorithm: typeof SIGNING_KEY_ALGORITHM;
  /** PEM SubjectPublicKeyInfo. */
  publicKey: string;
  /** Signatures dated before this are not accepted from this key (null: no lower bound). */
  notBefore: string | null;
  /** Signatures dated after this are not accepted from this key (null: still signing). */
  notAfter: string | null;
  /** The key that signs now; the others only verify what they signed. */
  current: boolean;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo: the id older records carry. */
  spkiSha256: string;
}

export interface PublishedKeySet {
  keys: PublishedKey[];
}

/** A key ready to verify with. */
export interface VerificationKey {
  keyId: string;
  spkiSha256: string;
  key: KeyObject;
  publicKeyPem: string;
  notBefore: Date | null;
  notAfter: Date | null;
  current: boolean;
}

/** Why a key set given to a verifier is unusable (a mistake in the file or configuration). */
export class KeySetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeySetError';
  }
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Checks a key is an EC P-256 public key (not private, not another curve). */
export function parseP256PublicKey(pem: string, where: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new KeySetError(`${where} holds a private key: give only the public key (PEM "PUBLIC KEY")`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeySetError(`${where} is not a PEM public key`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeySetError(`${where} is not an EC P-256 public key`);
  }
  return key;
}

/** The key id (see the module comment): SHA-256 of the SSH encoding of the key, as ssh-keygen prints it. */
export function signingKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new KeySetError('only EC P-256 keys have a key id here');
  }
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
  const wire = Buffer.concat([
    sshString(Buffer.from('ecdsa-sha2-nistp256')),
    sshString(Buffer.from('nistp256')),
    sshString(point),
  ]);
  return `SHA256:${createHash('sha256').update(wire).digest('base64').replace(/=+$/, '')}`;
}

/** Hex SHA-256 of the DER SubjectPublicKeyInfo (the id of records made before key ids were unified). */
export function spkiSha256(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function verificationKey(
  publicKey: KeyObject,
  o: { notBefore?: Date | null; notAfter?: Date | null; current?: boolean } = {},
): VerificationKey {
  return {
    keyId: signingKeyId(publicKey),
    spkiSha256: spkiSha256(publicKey),
    key: publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    notBefore: o.notBefore ?? null,
    notAfter: o.notAfter ?? null,
    current: o.current ?? false,
  };
}

export type KeySelection =
  | { ok: true; key: VerificationKey }
  | { ok: false; problem: 'key_unknown'; detail: string }
  | { ok: false; problem: 'key_not_valid_at'; key: VerificationKey; detail: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An ISO 8601 date-time with a zone (what the API writes); anything else is refused. */
export function parseInstant(value: unknown, where: string): Date {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new KeySetError(`${where} is not a date-time like 2026-01-31T00:00:00Z`);
  }
  return new Date(value);
}

/** The keys a verifier accepts, found by key id and checked against the signature's date. */
export class VerificationKeys {
  private constructor(readonly keys: readonly VerificationKey[]) {}

  /**
   * Checks the set makes sense: no key twice, periods that are periods, at most one current key.
   * Throws KeySetError naming the first problem.
   */
  static of(keys: readonly VerificationKey[]): VerificationKeys {
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (seen.has(k.keyId)) throw new KeySetError(`key ${i} (${k.keyId}) is listed twice`);
      seen.add(k.keyId);
      if (k.notBefore && k.notAfter && k.notBefore.getTime() >= k.notAfter.getTime()) {
        throw new KeySetError(`key ${i} (${k.keyId}): notBefore is not before notAfter`);
      }
    });
    if (keys.filter((k) => k.current).length > 1) throw new KeySetError('more than one key is current');
    return new VerificationKeys(keys);
  }

  /** One PEM public key with no period (`--public-key`): it verifies what names it, at any date. */
  static single(pem: string, where = 'the public key'): VerificationKeys {
    return VerificationKeys.of([verificationKey(parseP256PublicKey(pem, where))]);
  }

  /** The JSON of `GET /v1/keys`, as `--keys` files hold it. Throws KeySetError with the problem. */
  static fromPublished(value: unknown, where = 'the key set'): VerificationKeys {
    if (!isObject(value) || !Array.isArray(value.keys)) {
      throw new KeySetError(`${where} is not a key set ({"keys": [...]}, the JSON of GET /v1/keys)`);
    }
    if (value.keys.length === 0) throw new KeySetError(`${where} lists no keys`);
    const keys = value.keys.map((k: unknown, i) => {
      const at = `${where} key ${i}`;
      if (!isObject(k) || typeof k.publicKey !== 'string') throw new KeySetError(`${at} has no publicKey`);
      if (k.algorithm !== undefined && k.algorithm !== SIGNING_KEY_ALGORITHM) {
        throw new KeySetError(
          `${at}: algorithm ${JSON.stringify(k.algorithm)} is not ${SIGNING_KEY_ALGORITHM}`,
        );
      }
      const key = verificationKey(parseP256PublicKey(k.publicKey, `${at} publicKey`), {
        notBefore: k.notBefore == null ? null : parseInstant(k.notBefore, `${at} notBefore`),
        notAfter: k.notAfter == null ? null : parseInstant(k.notAfter, `${at} notAfter`),
        current: k.current === true,
      });
      // The id is computed from the key, never taken on trust; a file naming it otherwise is wrong.
      if (k.keyId !== undefined && k.keyId !== key.keyId) {
        throw new KeySetError(
          `${at}: keyId ${JSON.stringify(k.keyId)} is not the id of its key (${key.keyId})`,
        );
      }
      return key;
    });
    try {
      return VerificationKeys.of(keys);
    } catch (e) {
      throw e instanceof KeySetError ? new KeySetError(`${where}: ${e.message}`) : e;
    }
  }

  get current(): VerificationKey | undefined {
    return this.keys.find((k) => k.current);
  }

  /** The key a record names, by key id (or the older hex SPKI form). */
  find(keyId: string): VerificationKey | undefined {
    if (keyId === '') return undefined;
    return this.keys.find((k) => k.keyId === keyId || k.spkiSha256 === keyId);
  }

  /** The key named by `keyId`, if it was valid at `at` (the signed date of the record). */
  select(keyId: string, at: Date | string | null): KeySelection {
    const key = this.find(keyId);
    if (!key) {
      return {
        ok: false,
        problem: 'key_unknown',
        detail: `signed by key ${keyId === '' ? '(none named)' : keyId}, which is not in the key set`,
      };
    }
    if (at !== null && !this.validAt(key, at)) {
      return {
        ok: false,
        problem: 'key_not_valid_at',
        key,
        detail: `dated ${typeof at === 'string' ? at : at.toISOString()}, outside the period of key ${key.keyId} (${period(key)})`,
      };
    }
    return { ok: true, key };
  }

  /** Keys valid at `at` (for records that name no key: each is tried). */
  validKeys(at: Date | string | null): VerificationKey[] {
    return this.keys.filter((k) => at === null || this.validAt(k, at));
  }

  validAt(key: VerificationKey, at: Date | string): boolean {
    const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
    if (Number.isNaN(t)) return false;
    if (key.notBefore && t < key.notBefore.getTime()) return false;
    if (key.notAfter && t > key.notAfter.getTime()) return false;
    return true;
  }

  published(): PublishedKeySet {
    return {
      keys: this.keys.map((k) => ({
        keyId: k.keyId,
        algorithm: SIGNING_KEY_ALGORITHM,
        publicKey: k.publicKeyPem,
        notBefore: k.notBefore?.toISOString() ?? null,
        notAfter: k.notAfter?.toISOString() ?? null,
        current: k.current,
        spkiSha256: k.spkiSha256,
      })),
    };
  }
}

function period(k: VerificationKey): string {
  return `${k.notBefore?.toISOString() ?? 'any time'} to ${k.notAfter?.toISOString() ?? 'now'}`;
}
