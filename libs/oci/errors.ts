/**
 * Why a registry operation failed. Callers decide on retries from `transient`, and checks report
 * the kind: a check that met an `unavailable` registry errored, it did not fail.
 */
export type RegistryErrorKind =
  /** Repository, manifest, tag or blob does not exist (404). */
  | 'not_found'
  /** No usable credentials: the registry or its token service refused who we are (401). */
  | 'unauthorized'
  /**
   * Not allowed: a 403, a token without the needed scope, or the registry sending us to a host it
   * is not configured to use (redirect or upload location), which we refuse to follow.
   */
  | 'denied'
  /** Content larger than the configured or requested limit. */
  | 'too_large'
  /** Content does not hash to the digest that names it: corrupted or substituted. */
  | 'digest_mismatch'
  /** Network failure, timeout, 429 or 5xx: may succeed later. */
  | 'unavailable'
  /** The registry answered something that breaks the distribution protocol (malformed JSON, …). */
  | 'protocol'
  /** The caller asked for something invalid (bad repository name, digest, config). */
  | 'invalid_request';

const TRANSIENT: ReadonlySet<RegistryErrorKind> = new Set<RegistryErrorKind>(['unavailable']);

export interface RegistryErrorDetails {
  /** `host[:port]` of the registry concerned. */
  registry?: string;
  repository?: string;
  /** HTTP status of the answer that failed, when there was one. */
  status?: number;
  /** The distribution error code from the answer (`MANIFEST_UNKNOWN`, `DIGEST_INVALID`, …). */
  registryCode?: string;
  /** Overrides the kind's default (only `unavailable` is transient by default). */
  transient?: boolean;
}

/**
 * The only error libs/oci throws or emits on streams. Messages say what to check or change and never
 * contain credentials, tokens or URL query strings (which can carry signatures).
 */
export class RegistryError extends Error {
  readonly transient: boolean;
  readonly registry?: string;
  readonly repository?: string;
  readonly status?: number;
  readonly registryCode?: string;

  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    details: RegistryErrorDetails = {},
  ) {
    super(message);
    this.name = 'RegistryError';
    this.transient = details.transient ?? TRANSIENT.has(kind);
    this.registry = details.registry;
    this.repository = details.repository;
    this.status = details.status;
    this.registryCode = details.registryCode;
  }
}

export function isRegistryError(error: unknown, kind?: RegistryErrorKind): error is RegistryError {
  return error instanceof RegistryError && (kind === undefined || error.kind === kind);
}

/** A URL fit for an error message: origin and path, never the query (signed URLs, upload state). */
export function redactUrl(url: URL | string): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
