import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
// By file: the domain index would load the policy schemas (ajv) into every registry client.
import { DIGEST } from '../domain/artifact-reference';

import { RegistryError, type RegistryErrorDetails } from './errors';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isSha256Digest(value: string): boolean {
  return DIGEST.test(value);
}

export interface DigestVerifierOptions {
  /** `sha256:<hex>` the bytes must hash to. */
  digest: string;
  /** Refuse (too_large) as soon as more bytes than this pass. */
  maxBytes: number;
  /** Exact size the content must have (from a descriptor or Content-Length), when known. */
  size?: number;
  /** Who to name in errors. */
  context?: RegistryErrorDetails;
  /** What the bytes are, for messages: "blob sha256:… of app". */
  label?: string;
  /** What a mismatch means, for messages; default: the registry's copy is corrupted or substituted. */
  mismatchHint?: string;
}

/**
 * A pass-through stream that hashes what flows through it and errors at the end when the bytes do
 * not match the digest (or the expected size), and as soon as they exceed `maxBytes`. Consumers
 * must treat everything they read as untrusted until the stream ends without error.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private received = 0;

  constructor(private readonly o: DigestVerifierOptions) {
    super();
    if (!isSha256Digest(o.digest)) {
      throw new RegistryError(
        'invalid_request',
        `not a sha256 digest: ${JSON.stringify(o.digest)}`,
        o.context,
      );
    }
  }

  /** Bytes seen so far. */
  get bytesReceived(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    const label = this.o.label ?? this.o.digest;
    if (this.received > this.o.maxBytes) {
      callback(
        new RegistryError(
          'too_large',
          `${label} is larger than the limit of ${this.o.maxBytes} bytes`,
          this.o.context,
        ),
      );
      return;
    }
    if (this.o.size !== undefined && this.received > this.o.size) {
      callback(
        new RegistryError(
          'digest_mismatch',
          `${label} is longer than its expected ${this.o.size} bytes: the content is not what the digest names`,
          this.o.context,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const label = this.o.label ?? this.o.digest;
    if (this.o.size !== undefined && this.received !== this.o.size) {
      callback(
        new RegistryError(
          'digest_mismatch',
          `${label} ended after ${this.received} of ${this.o.size} bytes: the content is not what the digest names`,
          this.o.context,
        ),
      );
      return;
    }
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.o.digest) {
      callback(
        new RegistryError(
          'digest_mismatch',
          `${label}: content hashes to ${actual}, not ${this.o.digest}; ${this.o.mismatchHint ?? "the registry's copy is corrupted or was substituted"}`,
          this.o.context,
        ),
      );
      return;
    }
    callback();
  }
}
