import { LRUCache } from 'lru-cache';
import { REGISTRY_TOKEN_CACHE } from '../../oci';

/**
 * Every keyed in-process cache of libs/core and libs/oci, and its bounds, in one place: how many entries each
 * may hold (memory) and how long one may be served (staleness). A cache whose entries can change
 * has a time bound; one of immutable rows has only a size bound. Caches that must never serve a
 * stale permission also compare the identity generation (TokenVerifier, IdentityService,
 * IdentityLinkService), which no time bound replaces.
 */
export const CACHE_BOUNDS = {
  /** Environments by name, read on every promotion request; an admin may change one. */
  environments: { max: 1_000, ttlMs: 5_000 },
  /** Environment id → name: names never change (EnvironmentService; PromotionRepository's reads). */
  environmentNames: { max: 10_000 },
  /** Policy versions by id (and their numbers, for PromotionRepository's reads): immutable once stored. */
  policyVersions: { max: 1_000 },
  /**
   * Verified bearer tokens (by hash): a minute at most, never past the token's `exp` (set per
   * entry), and never past a change of the identity generation (checked on every hit).
   */
  verifiedTokens: { max: 10_000, ttlMs: 60_000 },
  /** OIDC discovery documents by issuer, shared by token verification and registry tokens. */
  oidcDiscovery: { max: 100, ttlMs: 60 * 60_000 },
  /** Remote key sets by `jwks_uri`; jose refetches the keys inside one itself (JwksClient). */
  jwksKeySets: { max: 100 },
  /**
   * Registry tokens, per registry client and scope: owned by libs/oci (which never imports core),
   * listed here so every bound is read in one place. Each entry lives until its token expires.
   */
  registryTokens: REGISTRY_TOKEN_CACHE,
} as const satisfies Record<string, CacheBounds>;

export interface CacheBounds {
  max: number;
  /** Absent: entries stay until pushed out by newer ones. */
  ttlMs?: number;
}

/** An LRU cache with `bounds`; stale entries are never returned (and dropped when read). */
export function boundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  bounds: CacheBounds,
): LRUCache<K, V> {
  return new LRUCache<K, V>(
    bounds.ttlMs === undefined ? { max: bounds.max } : { max: bounds.max, ttl: bounds.ttlMs },
  );
}

/**
 * The cached promise for `key`, or a new one from `load`, shared by every caller until it settles
 * (one discovery per issuer however many requests arrive at once). A rejected promise is dropped,
 * so the next caller tries again.
 */
export function sharedPromise<K extends NonNullable<unknown>, V>(
  cache: LRUCache<K, Promise<V>>,
  key: K,
  load: () => Promise<V>,
): Promise<V> {
  const hit = cache.get(key);
  if (hit) return hit;
  const loading = load();
  cache.set(key, loading);
  loading.catch(() => {
    if (cache.peek(key) === loading) cache.delete(key);
  });
  return loading;
}
