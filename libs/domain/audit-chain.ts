import { canonicalJson, canonicalJsonOfParsed, isWellFormed, sha256Hex } from './canonical-hash';

/** The hash that the first event of a chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit event that its hash covers. */
export interface ChainedEventFields {
  seq: string;
  occurredAt: string;
  actor: { kind: string; issuer: string; subject: string };
  action: string;
  subjectType: string;
  subjectId: string;
  details: Record<string, unknown>;
}

/** JSON.stringify of a string, refusing a lone surrogate as RFC 8785 does. */
function wellFormedJsonString(value: string): string {
  if (!isWellFormed(value)) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(value);
}

/**
 * sha256 over the canonical encoding (RFC 8785) of the event together with the previous link's
 * hash. The members of the envelope are fixed, so their canonical order is written out here
 * (keys sorted by UTF-16 code unit) and only `details` goes through the general canonical form:
 * the same bytes as canonicalJson of the whole object, at a fraction of the cost. A spec keeps
 * the two equal.
 */
export function chainHash(event: ChainedEventFields, prevHash: string): string {
  const s = wellFormedJsonString;
  const text =
    `{"action":${s(event.action)},"actor":{"issuer":${s(event.actor.issuer)},"kind":${s(event.actor.kind)},` +
    `"subject":${s(event.actor.subject)}},"details":${canonicalJsonOfParsed(event.details)},` +
    `"occurredAt":${s(event.occurredAt)},"prevHash":${s(prevHash)},"seq":${s(event.seq)},` +
    `"subjectId":${s(event.subjectId)},"subjectType":${s(event.subjectType)}}`;
  return sha256Hex(text);
}

/** chainHash as it was first written: the general canonical form of the whole object (the reference). */
export function chainHashReference(event: ChainedEventFields, prevHash: string): string {
  return sha256Hex(
    canonicalJson({
      seq: event.seq,
      occurredAt: event.occurredAt,
      actor: { kind: event.actor.kind, issuer: event.actor.issuer, subject: event.actor.subject },
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      details: event.details,
      prevHash,
    }),
  );
}

export interface ChainLink extends ChainedEventFields {
  prevHash: string;
  hash: string;
}

export type BrokenLink =
  | { seq: string; problem: 'hash_mismatch'; expected: string; found: string }
  | { seq: string; problem: 'prev_hash_mismatch'; expected: string; found: string }
  | { seq: string; problem: 'sequence_gap'; expected: string; found: string };

/**
 * Walks links in order from a known starting point and reports the first broken one.
 * Stateful so that a long chain can be verified in pages without holding it in memory.
 */
export class ChainVerifier {
  private expectedSeq: bigint;
  private prevHash: string;
  checked = 0;
  broken: BrokenLink | undefined;

  constructor(start: { seq: bigint; hash: string } = { seq: 0n, hash: GENESIS_HASH }) {
    this.expectedSeq = start.seq + 1n;
    this.prevHash = start.hash;
  }

  /** Feeds the next link; returns false once the chain is broken. */
  accept(link: ChainLink): boolean {
    if (this.broken) return false;
    if (BigInt(link.seq) !== this.expectedSeq) {
      this.broken = {
        seq: String(this.expectedSeq),
        problem: 'sequence_gap',
        expected: String(this.expectedSeq),
        found: link.seq,
      };
      return false;
    }
    if (link.prevHash !== this.prevHash) {
      this.broken = {
        seq: link.seq,
        problem: 'prev_hash_mismatch',
        expected: this.prevHash,
        found: link.prevHash,
      };
      return false;
    }
    const recomputed = chainHash(link, link.prevHash);
    if (recomputed !== link.hash) {
      this.broken = { seq: link.seq, problem: 'hash_mismatch', expected: recomputed, found: link.hash };
      return false;
    }
    this.prevHash = link.hash;
    this.expectedSeq += 1n;
    this.checked += 1;
    return true;
  }

  get head(): { seq: string; hash: string } {
    return { seq: String(this.expectedSeq - 1n), hash: this.prevHash };
  }
}
