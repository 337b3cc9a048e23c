/**
 * Whether trying again can change an outcome: the one vocabulary for "permanent" and "transient"
 * that intake, the checks, the promoter and the job runner share (kargo's terminal-error wrapper).
 *
 * - **permanent**: the same request gets the same answer however often it is tried: content that
 *   does not match its digest, content over a size limit (or endless), a token realm or redirect
 *   host nobody allowed, malformed content, a credential or right the registry refuses, a rule that
 *   says no. It ends now, with the reason: 422 at intake, `rejected` by the checks, `failed` by the
 *   copy (a person must act), and the job is not retried.
 * - **transient**: the world may change: the network, a 5xx or 429, a timeout, a registry too slow
 *   for the deadline, a database or queue that is away. Retried with backoff (503 at intake); past
 *   the last attempt it ends `failed`, which a person may retry.
 *
 * RegistryError and DomainError are Failures; anything else thrown (a bug, a dropped connection)
 * counts as transient, so it is retried and then recorded rather than lost.
 */
export class Failure extends Error {
  constructor(
    message: string,
    /** True when no retry can succeed: see the class comment. */
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'Failure';
  }

  /** Cannot succeed by retrying; `message` says what is wrong and what to change. */
  static permanent(message: string, options?: ErrorOptions): Failure {
    return new Failure(message, true, options);
  }

  /** May succeed later; `message` says what was unavailable. */
  static transient(message: string, options?: ErrorOptions): Failure {
    return new Failure(message, false, options);
  }
}

/** Anything thrown, as a Failure: Failures as they are, anything else transient. */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof Failure) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Failure(message, false, { cause: error });
}

export const isPermanentFailure = (error: unknown): boolean => classifyFailure(error).permanent;
