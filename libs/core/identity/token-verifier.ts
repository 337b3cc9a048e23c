import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AirlockConfig } from '../../config';
import { DomainError, ErrorCode } from '../../domain';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { type CiClaimsSnapshot } from '../promotion/promotion.entity';
import { type Caller, makeCaller } from './caller';
import { IdentityService } from './identity.service';
import { JwksClient } from './jwks.client';
import { CallerKind } from './trusted-issuer.entity';

/** Asymmetric algorithms only: `none` and HMAC (a shared secret) are never accepted. */
export const ALLOWED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
];

/** The CI claims kept with a promotion: GitHub Actions names first, GitLab's as fallbacks. */
function ciClaims(p: JWTPayload): CiClaimsSnapshot {
  const s = (k: string): string | undefined => (typeof p[k] === 'string' ? p[k] : undefined);
  const snapshot: CiClaimsSnapshot = {
    repository: s('repository') ?? s('project_path'),
    ref: s('ref'),
    sha: s('sha'),
    workflow: s('workflow') ?? s('job_workflow_ref') ?? s('ci_config_ref_uri'),
    actor: s('actor') ?? s('user_login'),
    repositoryOwner: s('repository_owner') ?? s('namespace_path'),
    runId: s('run_id') ?? s('pipeline_id'),
    eventName: s('event_name') ?? s('pipeline_source'),
  };
  return Object.fromEntries(Object.entries(snapshot).filter(([, v]) => v !== undefined));
}

/**
 * Issuers, bindings and their generation live in Postgres: when they cannot be read the caller
 * is told the service is unavailable (503), never that its token was refused.
 */
async function fromDatabase<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new DomainError(
      ErrorCode.DatabaseUnavailable,
      'who may do what cannot be read right now; retry shortly',
      {},
    );
  }
}

const refuse = (reason: string): DomainError =>
  new DomainError(ErrorCode.Unauthenticated, `the bearer token was refused: ${reason}`, { reason });

/**
 * Verifies bearer tokens from trusted issuers and turns them into Callers. Verified tokens are
 * remembered (by hash) for at most a minute, never past their expiry, and never past a change of
 * trusted issuers, role bindings or identity links in any process: every request first reads the
 * committed generation of those (IdentityService.currentGeneration), so a removal that committed
 * before the request arrived is never overlooked, whichever process made it.
 */
@Injectable()
export class TokenVerifier {
  private readonly cache = boundedCache<string, { generation: number; caller: Caller }>(
    CACHE_BOUNDS.verifiedTokens,
  );

  constructor(
    private readonly identity: IdentityService,
    private readonly jwks: JwksClient,
    private readonly config: AirlockConfig,
  ) {}

  async verify(token: string): Promise<Caller> {
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(cacheKey);
    // Roles come from bindings: a remembered caller is stale once any process changed them.
    const generation = await fromDatabase(() => this.identity.currentGeneration());
    if (hit && hit.generation === generation) return hit.caller;

    let unverified: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (!header.alg || !ALLOWED_ALGORITHMS.includes(header.alg))
        return Promise.reject(refuse('algorithm not allowed'));
      unverified = decodeJwt(token);
    } catch {
      throw refuse('not a JWT');
    }
    const issuer =
      typeof unverified.iss === 'string'
        ? await fromDatabase(() => this.identity.trustedIssuer(unverified.iss as string, generation))
        : undefined;
    if (!issuer) throw refuse('issuer not trusted');

    let payload: JWTPayload;
    try {
      const keys = await this.jwks.keysFor(issuer.issuer);
      ({ payload } = await jwtVerify(token, keys, {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.config.AUTH_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (e) {
      throw refuse(this.describe(e));
    }
    const now = Math.floor(Date.now() / 1000);
    if ((payload.iat ?? 0) > now + this.config.AUTH_CLOCK_SKEW_SECONDS) throw refuse('issued in the future');
    // A stolen long-lived token is a standing credential: the issuer's word on expiry is capped.
    const lifetime = (payload.exp as number) - (typeof payload.iat === 'number' ? payload.iat : now);
    if (lifetime > this.config.AUTH_MAX_TOKEN_LIFETIME_SECONDS) {
      throw refuse(`lifetime over ${this.config.AUTH_MAX_TOKEN_LIFETIME_SECONDS} s`);
    }
    if (typeof payload.aud !== 'string' && !(Array.isArray(payload.aud) && payload.aud.length === 1)) {
      throw refuse('a token for several audiences is not accepted');
    }
    const subject = payload.sub as string;
    const isCi = issuer.kind === CallerKind.Ci;
    if (isCi && typeof payload.jti !== 'string') throw refuse('CI tokens must carry a jti');

    const groupsClaim = payload[issuer.groupsClaim];
    const groups =
      !isCi && Array.isArray(groupsClaim)
        ? groupsClaim.filter((g): g is string => typeof g === 'string')
        : [];
    const claims = isCi ? ciClaims(payload) : {};
    const grants = await fromDatabase(() =>
      this.identity.grantsFor(
        {
          issuer: issuer.issuer,
          subject,
          groups,
          repository: typeof claims.repository === 'string' ? claims.repository : undefined,
        },
        generation,
      ),
    );
    const caller = makeCaller(
      { kind: isCi ? 'ci' : 'human', issuer: issuer.issuer, subject },
      { groups, claims, tokenJti: isCi ? (payload.jti as string) : null, grants },
    );
    // Never past the token's expiry (0 would mean "no time bound" to the cache: not remembered).
    const ttl = Math.floor(
      Math.min(CACHE_BOUNDS.verifiedTokens.ttlMs, (payload.exp as number) * 1000 - Date.now()),
    );
    if (ttl >= 1) this.cache.set(cacheKey, { generation, caller }, { ttl });
    return caller;
  }

  /** Drops remembered tokens, e.g. after bindings change. */
  forget(): void {
    this.cache.clear();
  }

  private describe(e: unknown): string {
    if (e instanceof joseErrors.JWTExpired) return 'expired';
    if (e instanceof joseErrors.JWTClaimValidationFailed)
      return `claim ${e.claim} ${e.reason === 'check_failed' ? 'is not acceptable' : 'is missing'}`;
    if (e instanceof joseErrors.JWKSNoMatchingKey) return 'signed by an unknown key';
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
    if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
    if (e instanceof joseErrors.JWTInvalid || e instanceof joseErrors.JWSInvalid) return 'malformed token';
    return 'could not be verified';
  }
}
