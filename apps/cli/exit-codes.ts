import { PromotionStatus } from '../../libs/domain/promotion-status';

/** The CLI's exit codes: CI pipelines branch on these, so they are part of its interface. */
export enum ExitCode {
  /** Done: promoted, or (not waiting) accepted and not refused. */
  Ok = 0,
  /** Usage error, API error, unreachable server, unreadable file. */
  Error = 1,
  /** A check failed or an approver rejected. */
  Rejected = 2,
  /** Nobody decided in time, or someone withdrew the request. */
  ExpiredOrCancelled = 3,
  /** A check could not run or the copy failed after its retries (the promotion can be retried). */
  Failed = 4,
  /** --timeout passed before the promotion settled. */
  Timeout = 5,
  /** The audit chain (or a signed checkpoint) does not verify. */
  AuditBroken = 6,
  /**
   * verify-attestation: Airlock's promotion attestation or its verification summary is missing
   * from the image, or does not verify with the given public key (or is not about the digest).
   */
  AttestationInvalid = 7,
}

/**
 * Exit code for a promotion the CLI stopped watching at `status`. Statuses on the way to success
 * (received … promoting) are 0: the caller decided not to wait longer, nothing said no.
 */
export function exitCodeForStatus(status: PromotionStatus): ExitCode {
  switch (status) {
    case PromotionStatus.Received:
    case PromotionStatus.Checking:
    case PromotionStatus.AwaitingApproval:
    case PromotionStatus.Approved:
    case PromotionStatus.Waiting:
    case PromotionStatus.Promoting:
    case PromotionStatus.Promoted:
      return ExitCode.Ok;
    case PromotionStatus.Rejected:
      return ExitCode.Rejected;
    case PromotionStatus.Expired:
    case PromotionStatus.Cancelled:
      return ExitCode.ExpiredOrCancelled;
    case PromotionStatus.Failed:
      return ExitCode.Failed;
  }
}

/** Statuses at which `promote --wait` stops: every outcome (promoted, or why not). */
export const WAIT_SETTLED: ReadonlySet<PromotionStatus> = new Set([
  PromotionStatus.Promoted,
  PromotionStatus.Rejected,
  PromotionStatus.Expired,
  PromotionStatus.Cancelled,
  PromotionStatus.Failed,
]);

/**
 * Statuses at which `promote` without --wait stops: anything past the automatic checks. The checks
 * take seconds, and waiting for them lets a pipeline fail at once on a failed check (exit 2) and
 * otherwise leave with the request awaiting its approvers (exit 0).
 */
export function checksSettled(status: PromotionStatus): boolean {
  return status !== PromotionStatus.Received && status !== PromotionStatus.Checking;
}
