import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { boundedCache, CACHE_BOUNDS, sharedPromise } from '../common/caches';

/** How long a discovery request may take (the issuer's well-known document). */
const DISCOVERY_TIMEOUT_SECONDS = 10;

/**
 * OIDC discovery (openid-client), one cached document per issuer for the whole process: token
 * verification reads its `jwks_uri` (JwksClient), registry credentials its `token_endpoint`
 * (RegistryTokens). Failures are not cached.
 */
@Injectable()
export class OidcDiscovery {
  private readonly documents = boundedCache<string, Promise<oidc.ServerMetadata>>(CACHE_BOUNDS.oidcDiscovery);

  /**
   * The issuer's metadata. `allowInsecure` lets a plain-http issuer be discovered (development and
   * tests, as each caller's setting allows); without it an http issuer is refused, cached or not.
   */
  metadata(issuer: string, allowInsecure: boolean): Promise<oidc.ServerMetadata> {
    const insecure = issuer.startsWith('http://');
    if (insecure && !allowInsecure) {
      return Promise.reject(new Error(`issuer ${issuer} is not https and plain http is not allowed`));
    }
    return sharedPromise(this.documents, issuer, async () => {
      const configuration = await oidc.discovery(new URL(issuer), 'airlock', undefined, undefined, {
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      return configuration.serverMetadata();
    });
  }
}
