import { canonicalJson } from './canonical-hash';

/**
 * A signed statement that the audit chain's head was `hash` at `seq`. Kept outside the database,
 * so that a history rewritten and re-chained by someone with database access no longer matches.
 */
export interface AuditCheckpoint {
  seq: string;
  hash: string;
  issuedAt: string;
  keyId: string;
  /** base64 DER ECDSA P-256/SHA-256 signature over checkpointPayload(). */
  signature: string;
}

export function checkpointPayload(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'issuedAt' | 'keyId'>): Buffer {
  return Buffer.from(
    canonicalJson({
      type: 'airlock.audit.checkpoint/v1',
      seq: c.seq,
      hash: c.hash,
      issuedAt: c.issuedAt,
      keyId: c.keyId,
    }),
  );
}
