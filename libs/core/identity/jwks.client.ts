import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { AirlockConfig } from '../../config';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { OidcDiscovery } from './oidc-discovery';

/**
 * The door to trusted issuers' keys: OIDC discovery (shared, cached) finds each issuer's JWKS, then
 * a jose remote key set caches the keys and refetches when a token names an unknown `kid`
 * (rate-limited by its cooldown, so a flood of bogus kids cannot hammer the issuer). A key set is
 * kept per `jwks_uri`, so rediscovering an issuer keeps the keys already fetched.
 */
@Injectable()
export class JwksClient {
  private readonly keySets = boundedCache<string, JWTVerifyGetKey>(CACHE_BOUNDS.jwksKeySets);

  constructor(
    private readonly config: AirlockConfig,
    private readonly discovery: OidcDiscovery,
  ) {}

  async keysFor(issuer: string): Promise<JWTVerifyGetKey> {
    const metadata = await this.discovery.metadata(issuer, this.config.AUTH_ALLOW_INSECURE_ISSUERS);
    const jwksUri = metadata.jwks_uri;
    if (!jwksUri) throw new Error(`issuer ${issuer} publishes no jwks_uri`);
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.keySets.set(jwksUri, keys);
    }
    return keys;
  }
}
