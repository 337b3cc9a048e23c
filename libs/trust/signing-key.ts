import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signingKeyId, spkiSha256 } from '../domain/signing-key-set';

/**
 * Airlock's own ECDSA P-256 key, the current one: signs audit checkpoints and promotion
 * attestations. Loaded once from a PEM file; the private key never leaves this object. Earlier
 * keys, kept to verify what they signed, are public keys only (signing-key-set.ts).
 */
export class SigningKey {
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  /** Names the key in what it signs: see signingKeyId. */
  readonly keyId: string;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyPem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = signingKeyId(this.publicKey);
  }

  /** Hex SHA-256 of the DER SubjectPublicKeyInfo (the id records made before key ids were unified carry). */
  get spkiSha256(): string {
    return spkiSha256(this.publicKey);
  }

  static fromPem(pem: string): SigningKey {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the signing key must be an EC P-256 private key');
    }
    return new SigningKey(key);
  }

  static fromFile(path: string): SigningKey {
    return SigningKey.fromPem(readFileSync(path, 'utf8'));
  }

  /**
   * A symmetric key for one purpose, derived from the private key (HKDF-SHA256), so a deployment
   * has per-purpose secrets without more files to manage and the signing key never leaves here.
   */
  deriveKey(purpose: string): Buffer {
    const ikm = this.privateKey.export({ type: 'pkcs8', format: 'der' });
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), `airlock ${purpose}`, 32));
  }

  /** ECDSA P-256 over SHA-256, DER-encoded (the form cosign uses). */
  sign(data: Buffer): Buffer {
    return sign('sha256', data, this.privateKey);
  }
}
