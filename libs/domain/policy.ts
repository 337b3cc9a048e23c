import { type ApprovalsSection, approvalsNeeded } from './approval-rules';
import { type FreezeSection } from './freeze-windows';
import { type SoakSection, type UpstreamSection } from './promotion-gate';
import { type ScansSection } from './scan-policy';
import { type WaiversSection } from './waivers';
import { type AttestationsSection, type SignaturesSection } from './trust-policy';
import { type RollbackSection } from './rollback-policy';

/**
 * A policy document says what a promotion into an environment needs. Versions are immutable once
 * stored; decisions record the sha256 of the canonical document they were made under.
 * Sections grow with the checks: approvals now; signatures, attestations and scans later.
 */
export interface PolicyDocument {
  /** Who must sign off, how many, for how long it counts, and separation of duties. */
  approvals: ApprovalsSection;
  /** Signers whose signatures on the image count, and how many are needed. */
  signatures?: SignaturesSection;
  /** What attested provenance and SBOMs must say (signed by the signers above). */
  attestations?: AttestationsSection;
  /** What may be inside the image: secrets in its layers, vulnerabilities and licenses in its SBOM. */
  scans?: ScansSection;
  /** What a rollback needs (fewer approvals, scans skipped): see rollback-policy.ts. */
  rollback?: RollbackSection;
  /** How the upstream promotion is judged, for an environment with upstreams. */
  upstream?: UpstreamSection;
  /** How long the digest must have been in an upstream environment first. */
  soak?: SoakSection;
  /**
   * When promotions may not start. Read from the environment's active policy when a promotion is
   * about to start (not from the version it pinned): a freeze declared today holds what waits today.
   */
  freeze?: FreezeSection;
  /** Whether and for how long exceptions (waivers) may let a failing check or finding pass. */
  waivers?: WaiversSection;
}

/** The result of one check run by the worker. `error` means it could not run: never a pass. */
export enum CheckStatus {
  Pass = 'pass',
  Fail = 'fail',
  Error = 'error',
  /** Failed, and let through by a granted waiver (named in the result): never a silent pass. */
  Waived = 'waived',
}

export interface CheckOutcome {
  kind: string;
  status: CheckStatus;
  summary: string;
  /** One line per blocking finding, so a rejection lists each of them, not only a count. */
  blocking?: string[];
}

/** Blocking findings listed in a rejection's reasons; the rest are in the check's findings. */
export const MAX_LISTED_BLOCKING = 100;

function reasonsOf(c: CheckOutcome): string[] {
  const lines = c.blocking ?? [];
  const listed = lines.slice(0, MAX_LISTED_BLOCKING).map((l) => `${c.kind}: ${l}`);
  if (lines.length > MAX_LISTED_BLOCKING)
    listed.push(`${c.kind}: ${lines.length - MAX_LISTED_BLOCKING} more (see the check's findings)`);
  return [`${c.kind}: ${c.summary}`, ...listed];
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
  const blocking = checks.filter((c) => c.status !== CheckStatus.Pass && c.status !== CheckStatus.Waived);
  if (blocking.length > 0) {
    return { decision: 'rejected', reasons: blocking.flatMap(reasonsOf) };
  }
  const needed = approvalsNeeded(policy.approvals);
  if (needed > 0) {
    return { decision: 'awaiting_approval', reasons: [`${needed} approval(s) required`] };
  }
  return { decision: 'approved', reasons: ['no approvals required'] };
}
