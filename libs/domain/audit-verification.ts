import { verify } from 'node:crypto';
import { type AuditCheckpoint, checkpointPayload } from './audit-checkpoint';
import { type BrokenLink, type ChainLink, ChainVerifier } from './audit-chain';
import { VerificationKeys } from './signing-key-set';

export type CheckpointProblem =
  | { seq: string; problem: 'checkpoint_signature_invalid'; keyId: string }
  /** Signed by a key that is not in the key set: named, so an operator can tell a forgery from a missing key. */
  | { seq: string; problem: 'checkpoint_key_unknown'; keyId: string }
  /** Dated outside the period of the key that signed it (a retired key signing later). */
  | { seq: string; problem: 'checkpoint_key_not_valid'; keyId: string; detail: string }
  | { seq: string; problem: 'checkpoint_mismatch'; expected: string; found: string }
  | { seq: string; problem: 'checkpoint_beyond_head'; expected: string; found: string };

export interface AuditVerification {
  ok: boolean;
  /** Links walked and found sound. */
  checked: number;
  head: { seq: string; hash: string };
  /** The first link whose hash or back-pointer does not hold, if any. */
  firstBrokenLink: BrokenLink | null;
  /** Checkpoints compared with the chain (validly signed, at a seq the chain reached). */
  checkpointsChecked: number;
  /** Of those, the ones whose hash the chain still has. */
  checkpointsMatched: number;
  /** The first signed checkpoint the chain no longer matches: history rewritten and re-chained. */
  firstCheckpointMismatch: CheckpointProblem | null;
}

/** Why a checkpoint's signature is not accepted, or null when it is. */
function signatureProblem(c: AuditCheckpoint, keys: VerificationKeys | undefined): CheckpointProblem | null {
  const keyId = typeof c.keyId === 'string' ? c.keyId : '';
  if (!keys) return { seq: c.seq, problem: 'checkpoint_signature_invalid', keyId };
  // The date judged is the one inside the signed payload; a key is accepted only for its period.
  const selected = keys.select(keyId, c.issuedAt);
  if (!selected.ok) {
    return selected.problem === 'key_unknown'
      ? { seq: c.seq, problem: 'checkpoint_key_unknown', keyId }
      : { seq: c.seq, problem: 'checkpoint_key_not_valid', keyId, detail: selected.detail };
  }
  try {
    if (verify('sha256', checkpointPayload(c), selected.key.key, Buffer.from(c.signature, 'base64'))) {
      return null;
    }
  } catch {
    // unreadable signature: invalid
  }
  return { seq: c.seq, problem: 'checkpoint_signature_invalid', keyId };
}

/**
 * Walks the whole chain from genesis and compares it with every signed checkpoint. Shared by the
 * API's verify route and the offline verifier, so both judge a chain the same way. `keys` is
 * Airlock's key set (or one PEM public key, which then verifies whatever names it, at any date):
 * a checkpoint counts when the key it names is in the set, was valid at its `issuedAt`, and
 * verifies its signature.
 */
export async function verifyAuditChain(
  links: AsyncIterable<ChainLink> | Iterable<ChainLink>,
  checkpoints: readonly AuditCheckpoint[],
  keys: VerificationKeys | string | undefined,
): Promise<AuditVerification> {
  const keySet = typeof keys === 'string' ? VerificationKeys.single(keys) : keys;
  const verifier = new ChainVerifier();
  const bySeq = new Map<string, AuditCheckpoint[]>();
  let checkpointMismatch: CheckpointProblem | null = null;
  let checkpointsChecked = 0;
  let checkpointsMatched = 0;
  for (const c of checkpoints) {
    const problem = signatureProblem(c, keySet);
    if (problem) {
      checkpointMismatch ??= problem;
      continue;
    }
    bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  }
  for await (const link of links) {
    if (!verifier.accept(link)) break;
    for (const c of bySeq.get(link.seq) ?? []) {
      checkpointsChecked += 1;
      if (c.hash === link.hash) checkpointsMatched += 1;
      else if (!checkpointMismatch) {
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
    checkpointsMatched,
    firstCheckpointMismatch: checkpointMismatch,
  };
}
