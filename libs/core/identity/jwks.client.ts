import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { AirlockConfig } from '../../config';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { HostGuard } from '../outbound/host-guard';
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
    private readonly hosts: HostGuard,
  ) {}

  async keysFor(issuer: string): Promise<JWTVerifyGetKey> {
    const metadata = await this.discovery.metadata(issuer, this.config.AUTH_ALLOW_INSECURE_ISSUERS);
    const jwksUri = metadata.jwks_uri;
    if (!jwksUri) throw new Error(`issuer ${issuer} publishes no jwks_uri`);
    let keys = this.keySets.get(jwksUri);
    if (!keys) {
      // The discovery document names where the keys are: on the issuer's own origin, or on a host
      // the operator allowed, never anywhere a discovery document says (a request any caller can
      // trigger with a token naming an unknown key).
      if (new URL(jwksUri).origin !== new URL(issuer).origin) await this.hosts.checkUrl('jwks_uri', jwksUri);
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
