/**
 * A policy document says what a promotion into an environment needs. Versions are immutable once
 * stored; decisions record the sha256 of the canonical document they were made under.
 * Sections grow with the checks: approvals now; signatures, attestations and scans later.
 */
export interface PolicyDocument {
  approvals: {
    /** Distinct approving identities needed; 0 promotes without human sign-off. */
    required: number;
  };
}

/** The result of one check run by the worker. `error` means it could not run: never a pass. */
export enum CheckStatus {
  Pass = 'pass',
  Fail = 'fail',
  Error = 'error',
}

export interface CheckOutcome {
  kind: string;
  status: CheckStatus;
  summary: string;
}

export type EvaluationOutcome =
  | { decision: 'rejected'; reasons: string[] }
  | { decision: 'awaiting_approval'; reasons: string[] }
  | { decision: 'approved'; reasons: string[] };

/**
 * Applies a policy to the results of the check stage. Returns every reason, not just the first,
 * so a rejected request lists all that blocks it. Checks that errored are handled by the caller
 * (they are retried, and fail the request if they never run): here an error still blocks.
 */
export function evaluateChecks(policy: PolicyDocument, checks: readonly CheckOutcome[]): EvaluationOutcome {
  const blocking = checks.filter((c) => c.status !== CheckStatus.Pass);
  if (blocking.length > 0) {
    return { decision: 'rejected', reasons: blocking.map((c) => `${c.kind}: ${c.summary}`) };
  }
  if (policy.approvals.required > 0) {
    return {
      decision: 'awaiting_approval',
      reasons: [`${policy.approvals.required} approval(s) required`],
    };
  }
  return { decision: 'approved', reasons: ['no approvals required'] };
}
