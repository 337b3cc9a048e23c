import { canonicalHash } from './canonical-hash';
import { type PolicyDocument } from './policy';

/**
 * A condition a promotion must meet before the copy, beyond checks and approvals: an environment
 * chain (promoted to staging first), a soak time, a freeze window. A dry run lists each one the
 * environment has, with whether it would hold now. The list is the extension point for those
 * gates: each gate adds its own entries (none exist yet, so the list is empty today).
 */
export interface PreCopyCondition {
  /** e.g. `chain`, `soak`, `freeze`. */
  kind: string;
  /** `met`: would not hold the promotion; `waiting`: would hold it until `until`; `blocked`: refuses it. */
  state: 'met' | 'waiting' | 'blocked';
  detail: string;
  until?: string | null;
}

/**
 * The part of a policy a check kind's result depends on. A stored result of a past promotion is
 * reused to judge a proposed policy only when this part is the same in both policies; otherwise
 * the check runs again. Vulnerability and license checks read SBOMs the signers attest, so the
 * signers are part of theirs.
 */
export function checkPolicySection(policy: PolicyDocument, kind: string): unknown {
  switch (kind) {
    case 'signatures':
      return { signatures: policy.signatures ?? null };
    case 'attestations':
      return { signatures: policy.signatures ?? null, attestations: policy.attestations ?? null };
    case 'secrets':
      return { secrets: policy.scans?.secrets ?? null };
    case 'vulnerabilities':
      return {
        signatures: policy.signatures ?? null,
        vulnerabilities: policy.scans?.vulnerabilities ?? null,
      };
    case 'licenses':
      return { signatures: policy.signatures ?? null, licenses: policy.scans?.licenses ?? null };
    default: {
      // An unknown kind depends on everything but the approvals, to be safe.
      const { approvals: _approvals, ...rest } = policy;
      return rest;
    }
  }
}

/** Whether a check kind would judge the same under both policies (see checkPolicySection). */
export function sameCheckSection(a: PolicyDocument, b: PolicyDocument, kind: string): boolean {
  return canonicalHash(checkPolicySection(a, kind)) === canonicalHash(checkPolicySection(b, kind));
}

export type ReplayVerdict = 'rejected' | 'awaiting_approval' | 'approved' | 'undetermined';

/** One past promotion judged again under a proposed policy version. */
export interface ReplayedPromotion {
  verdict: ReplayVerdict;
  /** What became of it under the policy it was requested under. */
  status: string;
}

/** What a proposed policy would have done to past promotions, in counts and one line. */
export function summarizeReplay(replayed: readonly ReplayedPromotion[]): {
  evaluated: number;
  wouldReject: number;
  newlyRejected: number;
  wouldAwaitApproval: number;
  wouldApprove: number;
  undetermined: number;
  summary: string;
} {
  const count = (v: ReplayVerdict): number => replayed.filter((r) => r.verdict === v).length;
  const wouldReject = count('rejected');
  const newlyRejected = replayed.filter((r) => r.verdict === 'rejected' && r.status !== 'rejected').length;
  const undetermined = count('undetermined');
  const n = replayed.length;
  return {
    evaluated: n,
    wouldReject,
    newlyRejected,
    wouldAwaitApproval: count('awaiting_approval'),
    wouldApprove: count('approved'),
    undetermined,
    summary:
      `this version would have rejected ${wouldReject} of the last ${n}` +
      (newlyRejected ? ` (${newlyRejected} not rejected then)` : '') +
      (undetermined ? `; ${undetermined} could not be judged` : ''),
  };
}
