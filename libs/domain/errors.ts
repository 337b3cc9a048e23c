import { Failure } from './failure';

/**
 * Domain errors carry a stable code. Services throw them; the API's exception filter maps each code
 * to an HTTP status and an application/problem+json body. Nothing here knows about HTTP.
 */
export enum ErrorCode {
  ValidationFailed = 'validation_failed',
  NotFound = 'not_found',
  Conflict = 'conflict',
  InvalidTransition = 'invalid_transition',
  IdempotencyKeyReused = 'idempotency_key_reused',
  IdempotencyKeyInProgress = 'idempotency_key_in_progress',
  TokenReplayed = 'token_replayed',
  SourceNotAllowed = 'source_not_allowed',
  NoActivePolicy = 'no_active_policy',
  InvalidPolicy = 'invalid_policy',
  FourEyesRequired = 'four_eyes_required',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  PayloadTooLarge = 'payload_too_large',
  /** A tag named at intake does not exist in the source registry. */
  TagNotFound = 'tag_not_found',
  /** The source registry could not be reached or refused us; retry later. */
  RegistryUnavailable = 'registry_unavailable',
  // Approval refusals (the values of ApprovalRefusal):
  SelfApproval = 'self_approval',
  CommitAuthor = 'commit_author',
  NotApprover = 'not_approver',
  NotInRuleGroups = 'not_in_rule_groups',
  AlreadyDecided = 'already_decided',
  NotAwaitingApproval = 'not_awaiting_approval',
  StaleReview = 'stale_review',
  CommentRequired = 'comment_required',
  /** An advisory upload is not OSV (or not readable): nothing from it was stored. */
  InvalidAdvisories = 'invalid_advisories',
  /** Postgres cannot be reached: retry later (503 with Retry-After). */
  DatabaseUnavailable = 'database_unavailable',
  /** Redis (the job queue) cannot be reached: retry later (503 with Retry-After). */
  QueueUnavailable = 'queue_unavailable',
  /** Too many requests from this caller or address (429 with Retry-After). */
  RateLimited = 'rate_limited',
  /** A host (registry, token issuer, realm, webhook URL) the operator has not allowed. */
  HostNotAllowed = 'host_not_allowed',
  /** A secret reference that names no secret the operator provides, or one Airlock refuses to read. */
  SecretNotAvailable = 'secret_not_available',
  /** A CI workload asked for an artifact of a repository its claims do not allow. */
  RepositoryNotAllowed = 'repository_not_allowed',
  /** A JSON body nested deeper than the API accepts. */
  BodyTooDeep = 'body_too_deep',
  /** The registry answered with something that can never succeed (digest mismatch, size, realm…). */
  RegistryRefused = 'registry_refused',
  /** A rollback named a digest Airlock never promoted to that tag of the environment. */
  RollbackTargetUnknown = 'rollback_target_unknown',
  /** A rollback to the digest the tag already holds, or with nothing earlier to go back to. */
  RollbackNothingToDo = 'rollback_nothing_to_do',
  /** The environment has upstreams and the digest was not promoted into (or no longer holds) any. */
  UpstreamNotPromoted = 'upstream_not_promoted',
}

/** Codes that say "not now" rather than "no": a retry may succeed. Every other code is permanent. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.RegistryUnavailable,
  ErrorCode.DatabaseUnavailable,
  ErrorCode.QueueUnavailable,
  ErrorCode.RateLimited,
  ErrorCode.IdempotencyKeyInProgress,
]);

/** A Failure (see failure.ts) whose permanence follows from its code. */
export class DomainError extends Failure {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable details safe to show the caller. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message, !TRANSIENT_CODES.has(code));
    this.name = 'DomainError';
  }
}

/**
 * A dependency (Postgres, Redis) could not be reached: the same request may succeed later, so
 * callers get 503 with Retry-After and retry loops treat it as transient, never as a refusal.
 */
export const OUTAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.DatabaseUnavailable,
  ErrorCode.QueueUnavailable,
]);

export function isOutage(e: unknown): e is DomainError {
  return e instanceof DomainError && OUTAGE_CODES.has(e.code);
}

export const isNotFound = (e: unknown): e is DomainError =>
  e instanceof DomainError && e.code === ErrorCode.NotFound;

export const notFound = (what: string, id: string): DomainError =>
  new DomainError(ErrorCode.NotFound, `${what} ${id} was not found`, { [what]: id });
