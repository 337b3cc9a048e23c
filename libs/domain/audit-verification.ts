import { verify } from 'node:crypto';
import { type AuditCheckpoint, checkpointPayload } from './audit-checkpoint';
import { type BrokenLink, type ChainLink, chainHash, ChainVerifier, GENESIS_HASH } from './audit-chain';
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
  /** Links walked and found sound (the anchor link of an incremental walk not counted). */
  checked: number;
  /** The last sound link reached. */
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

/**
 * Where a walk starts when it does not start at the genesis: a signed checkpoint that an earlier
 * verification proved (its signature, and the chain up to it). The first link given must be the
 * one at the checkpoint's seq: it must still hash to what it says and carry the checkpoint's hash,
 * so a history rewritten and re-chained behind the checkpoint is found at the anchor.
 */
export interface WalkOptions {
  anchor?: AuditCheckpoint;
  /**
   * Called after each page with the links checked so far; may throw (cancellation) or pause the
   * walk (the online walk records progress and looks for a cancel request here).
   */
  onPage?: (checked: number, head: { seq: string; hash: string }) => void | Promise<void>;
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
 * Walks a chain in order and compares it with every signed checkpoint. Shared by the API's
 * verification and the offline verifier, so both judge a chain the same way. `keys` is Airlock's
 * key set (or one PEM public key, which then verifies whatever names it, at any date): a
 * checkpoint counts when the key it names is in the set, was valid at its `issuedAt`, and verifies
 * its signature. `links` yields links one by one or in pages (arrays): pages keep the per-link
 * cost of an async iteration out of a walk of millions. From the genesis unless `options.anchor`
 * names the checkpoint the first link sits at; checkpoints at or before the anchor are then not
 * judged again (the anchor covers them).
 */
export async function verifyAuditChain(
  links: AsyncIterable<ChainLink | readonly ChainLink[]> | Iterable<ChainLink | readonly ChainLink[]>,
  checkpoints: readonly AuditCheckpoint[],
  keys: VerificationKeys | string | undefined,
  options: WalkOptions = {},
): Promise<AuditVerification> {
  const keySet = typeof keys === 'string' ? VerificationKeys.single(keys) : keys;
  const anchor = options.anchor;
  const after = anchor ? BigInt(anchor.seq) : 0n;
  const bySeq = new Map<string, AuditCheckpoint[]>();
  let checkpointMismatch: CheckpointProblem | null = null;
  let checkpointsChecked = 0;
  let checkpointsMatched = 0;
  let verifier: ChainVerifier | undefined = anchor ? undefined : new ChainVerifier();
  let anchorBroken: BrokenLink | undefined;
  if (anchor) {
    checkpointMismatch = signatureProblem(anchor, keySet);
  }
  for (const c of checkpoints) {
    if (BigInt(c.seq) <= after) continue;
    const problem = signatureProblem(c, keySet);
    if (problem) {
      checkpointMismatch ??= problem;
      continue;
    }
    bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  }

  /** The anchor link: sound in itself and carrying the anchor's hash. Returns the verifier to go on with. */
  const acceptAnchor = (link: ChainLink, a: AuditCheckpoint): ChainVerifier | undefined => {
    if (link.seq !== a.seq) {
      anchorBroken = { seq: a.seq, problem: 'sequence_gap', expected: a.seq, found: link.seq };
      return undefined;
    }
    const recomputed = chainHash(link, link.prevHash);
    if (recomputed !== link.hash) {
      anchorBroken = { seq: link.seq, problem: 'hash_mismatch', expected: recomputed, found: link.hash };
      return undefined;
    }
    checkpointsChecked += 1;
    if (link.hash !== a.hash) {
      checkpointMismatch ??= {
        seq: a.seq,
        problem: 'checkpoint_mismatch',
        expected: a.hash,
        found: link.hash,
      };
      return undefined;
    }
    checkpointsMatched += 1;
    return new ChainVerifier({ seq: BigInt(link.seq), hash: link.hash });
  };

  const accept = (link: ChainLink): boolean => {
    if (!verifier) {
      verifier = anchor ? acceptAnchor(link, anchor) : undefined;
      return verifier !== undefined;
    }
    if (!verifier.accept(link)) return false;
    const due = bySeq.get(link.seq);
    if (due) {
      for (const c of due) {
        checkpointsChecked += 1;
        if (c.hash === link.hash) checkpointsMatched += 1;
        else {
          checkpointMismatch ??= {
            seq: c.seq,
            problem: 'checkpoint_mismatch',
            expected: c.hash,
            found: link.hash,
          };
        }
      }
      bySeq.delete(link.seq);
    }
    return true;
  };

  walk: for await (const item of links) {
    if (isPage(item)) {
      for (const link of item) if (!accept(link)) break walk;
    } else if (!accept(item)) break;
    if (options.onPage && verifier) await options.onPage(verifier.checked, verifier.head);
  }
  if (!verifier && anchor && !anchorBroken && !checkpointMismatch) {
    // No link at all where the anchor should be: the chain was cut behind it.
    checkpointMismatch = {
      seq: anchor.seq,
      problem: 'checkpoint_beyond_head',
      expected: anchor.hash,
      found: 'missing',
    };
  }
  const broken = anchorBroken ?? verifier?.broken;
  if (!broken && !checkpointMismatch) {
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
    ok: !broken && !checkpointMismatch,
    checked: verifier?.checked ?? 0,
    head:
      verifier?.head ?? (anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: '0', hash: GENESIS_HASH }),
    firstBrokenLink: broken ?? null,
    checkpointsChecked,
    checkpointsMatched,
    firstCheckpointMismatch: checkpointMismatch,
  };
}

function isPage(item: ChainLink | readonly ChainLink[]): item is readonly ChainLink[] {
  return Array.isArray(item);
}

/**
 * The newest checkpoint a sound walk matched, to anchor the next incremental walk: `checkpoints`
 * filtered to the validly signed ones whose seq the walk reached, newest first.
 */
export function newestProvenCheckpoint(
  result: AuditVerification,
  checkpoints: readonly AuditCheckpoint[],
  keys: VerificationKeys | string | undefined,
  anchor?: AuditCheckpoint,
): AuditCheckpoint | undefined {
  if (!result.ok) return undefined;
  const keySet = typeof keys === 'string' ? VerificationKeys.single(keys) : keys;
  const head = BigInt(result.head.seq);
  const floor = anchor ? BigInt(anchor.seq) : 0n;
  const candidates = checkpoints
    .filter((c) => BigInt(c.seq) > floor && BigInt(c.seq) <= head && !signatureProblem(c, keySet))
    .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? 1 : -1));
  return candidates[0] ?? anchor;
}
