import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { AirlockConfig } from '../../config';

const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/**
 * The door to trusted issuers: OIDC discovery (openid-client) to find each issuer's JWKS, then a
 * jose remote key set that caches keys and refetches when a token names an unknown `kid`
 * (rate-limited by its cooldown, so a flood of bogus kids cannot hammer the issuer).
 */
@Injectable()
export class JwksClient {
  private readonly keySets = new Map<string, { at: number; keys: Promise<JWTVerifyGetKey> }>();

  constructor(private readonly config: AirlockConfig) {}

  keysFor(issuer: string): Promise<JWTVerifyGetKey> {
    const hit = this.keySets.get(issuer);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.keys;
    const keys = this.discover(issuer);
    this.keySets.set(issuer, { at: Date.now(), keys });
    keys.catch(() => this.keySets.delete(issuer));
    return keys;
  }

  private async discover(issuer: string): Promise<JWTVerifyGetKey> {
    const insecure = this.config.AUTH_ALLOW_INSECURE_ISSUERS && issuer.startsWith('http://');
    const configuration = await oidc.discovery(
      new URL(issuer),
      'airlock',
      undefined,
      undefined,
      insecure ? { execute: [oidc.allowInsecureRequests], timeout: 5 } : { timeout: 5 },
    );
    const jwksUri = configuration.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error(`issuer ${issuer} publishes no jwks_uri`);
    return createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  }
}
