// By file: the domain index would load the policy schemas (ajv) into every registry client.
import { Failure } from '../domain/failure';

/**
 * Why a registry operation failed. Only `unavailable` may pass by retrying (it is the one transient
 * kind); every other kind is permanent: the same registry gives the same answer.
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
  /**
   * Network failure, timeout, 429 or 5xx, or a transfer cut off at the deadline or under the
   * minimum rate: may succeed later.
   */
  | 'unavailable'
  /** The registry answered something that breaks the distribution protocol (malformed JSON, …). */
  | 'protocol'
  /** The caller asked for something invalid (bad repository name, digest, config). */
  | 'invalid_request';

const TRANSIENT_KINDS: ReadonlySet<RegistryErrorKind> = new Set<RegistryErrorKind>(['unavailable']);

export interface RegistryErrorDetails {
  /** `host[:port]` of the registry concerned. */
  registry?: string;
  repository?: string;
  /** HTTP status of the answer that failed, when there was one. */
  status?: number;
  /** The distribution error code from the answer (`MANIFEST_UNKNOWN`, `DIGEST_INVALID`, …). */
  registryCode?: string;
  /** Overrides the kind's default (only `unavailable` is transient by default). */
  permanent?: boolean;
}

/**
 * The only error libs/oci throws or emits on streams. A Failure: `permanent` says whether a retry
 * can help. Messages say what to check or change and never contain credentials, tokens or URL
 * query strings (which can carry signatures).
 */
export class RegistryError extends Failure {
  readonly registry?: string;
  readonly repository?: string;
  readonly status?: number;
  readonly registryCode?: string;

  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    details: RegistryErrorDetails = {},
  ) {
    super(message, details.permanent ?? !TRANSIENT_KINDS.has(kind));
    this.name = 'RegistryError';
    this.registry = details.registry;
    this.repository = details.repository;
    this.status = details.status;
    this.registryCode = details.registryCode;
  }
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
