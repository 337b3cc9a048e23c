import { createPublicKey, verify } from 'node:crypto';
import { type AuditCheckpoint, checkpointPayload } from './audit-checkpoint';
import { type BrokenLink, type ChainLink, ChainVerifier } from './audit-chain';

export type CheckpointProblem =
  | { seq: string; problem: 'checkpoint_signature_invalid' }
  | { seq: string; problem: 'checkpoint_mismatch'; expected: string; found: string }
  | { seq: string; problem: 'checkpoint_beyond_head'; expected: string; found: string };

export interface AuditVerification {
  ok: boolean;
  /** Links walked and found sound. */
  checked: number;
  head: { seq: string; hash: string };
  /** The first link whose hash or back-pointer does not hold, if any. */
  firstBrokenLink: BrokenLink | null;
  checkpointsChecked: number;
  /** The first signed checkpoint the chain no longer matches: history rewritten and re-chained. */
  firstCheckpointMismatch: CheckpointProblem | null;
}

function checkpointSignatureValid(c: AuditCheckpoint, publicKeyPem: string): boolean {
  try {
    return verify(
      'sha256',
      checkpointPayload(c),
      createPublicKey(publicKeyPem),
      Buffer.from(c.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/**
 * Walks the whole chain from genesis and compares it with every signed checkpoint. Shared by the
 * API's verify route and the offline verifier, so both judge a chain the same way.
 */
export async function verifyAuditChain(
  links: AsyncIterable<ChainLink> | Iterable<ChainLink>,
  checkpoints: readonly AuditCheckpoint[],
  publicKeyPem: string | undefined,
): Promise<AuditVerification> {
  const verifier = new ChainVerifier();
  const bySeq = new Map<string, AuditCheckpoint[]>();
  let checkpointMismatch: CheckpointProblem | null = null;
  let checkpointsChecked = 0;
  for (const c of checkpoints) {
    if (!publicKeyPem || !checkpointSignatureValid(c, publicKeyPem)) {
      checkpointMismatch ??= { seq: c.seq, problem: 'checkpoint_signature_invalid' };
      continue;
    }
    bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  }
  for await (const link of links) {
    if (!verifier.accept(link)) break;
    for (const c of bySeq.get(link.seq) ?? []) {
      checkpointsChecked += 1;
      if (c.hash !== link.hash && !checkpointMismatch) {
        checkpointMismatch = {
          seq: c.seq,
          problem: 'checkpoint_mismatch',
          expected: c.hash,
          found: link.hash,
        };
      }
    }
    bySeq.delete(link.seq);
  }
  if (!verifier.broken && !checkpointMismatch) {
    // Checkpoints past the head mean events were removed from the end of the chain.
    const beyond = [...bySeq.values()].flat().sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1))[0];
    if (beyond) {
      checkpointMismatch = {
        seq: beyond.seq,
        problem: 'checkpoint_beyond_head',
        expected: beyond.hash,
        found: 'missing',
      };
    }
  }
  return {
    ok: !verifier.broken && !checkpointMismatch,
    checked: verifier.checked,
    head: verifier.head,
    firstBrokenLink: verifier.broken ?? null,
    checkpointsChecked,
    firstCheckpointMismatch: checkpointMismatch,
  };
}
