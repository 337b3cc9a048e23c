// Registry authentication: Basic challenges, and the Docker token protocol for Bearer challenges
// (GET <realm>?service=…&scope=… with the configured credentials, only to configured realms), with
// a per-scope token cache. Credentials and tokens stay inside this file's objects: they are never
// put into errors.
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';

import { RegistryError, redactUrl, type RegistryErrorDetails } from './errors';
import { discard, readBody, type HttpTransport } from './http-transport';
import { isAllowedRealm, type ResolvedRegistryConfig } from './registry-config';

export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`, … */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHARS = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parses WWW-Authenticate (RFC 9110 §11.6.1): one or more challenges, each a scheme followed by
 * comma-separated `name=value` or `name="quoted value"` parameters.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < header.length && TOKEN_CHARS.test(header[i])) i++;
    return header.slice(start, i);
  };
  let current: AuthChallenge | undefined;
  while (i < header.length) {
    skipSpaces();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const token = readToken();
    if (token === '') {
      i++; // skip a stray character
      continue;
    }
    skipSpaces();
    if (header[i] === '=') {
      i++;
      skipSpaces();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        value = readToken();
      }
      // A parameter before any scheme belongs to nothing: its value is read past and dropped.
      if (current !== undefined) current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}

export function challengesOf(headers: IncomingHttpHeaders): AuthChallenge[] {
  const value = headers['www-authenticate'];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.flatMap(parseWwwAuthenticate);
}

interface CachedToken {
  authorization: string;
  /** ms since epoch; the entry is dropped after this. */
  expiresAt: number;
  /** What the token was asked for: `type:name` → actions. */
  grants: Map<string, Set<string>>;
}

/**
 * Bounds of each client's token cache (listed with libs/core's caches in CACHE_BOUNDS): how many
 * scopes' tokens it holds; each entry lives until its token's own expiry (less a margin).
 */
export const REGISTRY_TOKEN_CACHE = { max: 256 } as const;

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew this long before a token expires, so it does not expire in flight. */
const EXPIRY_MARGIN_MS = 10_000;

/** `exp` of a JWT, read without verification: only used to decide how long to cache it. */
function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `type:name` → actions of scopes like `repository:app:pull,push`. The name may contain ':'
 * (`host:port/app`), so the actions start after the last colon.
 */
function parseScopes(scopes: readonly string[]): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const last = scope.lastIndexOf(':');
    const resource = last > 0 ? scope.slice(0, last) : scope;
    const actions = grants.get(resource) ?? new Set<string>();
    if (last > 0)
      for (const action of scope.slice(last + 1).split(',')) if (action !== '') actions.add(action);
    grants.set(resource, actions);
  }
  return grants;
}

/** A cache key that does not depend on order: registries list actions in any order (`push,pull`). */
function scopeKey(scopes: readonly string[]): string {
  return [...parseScopes(scopes)]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .sort()
    .join(' ');
}

function covers(grants: Map<string, Set<string>>, needed: Map<string, Set<string>>): boolean {
  for (const [resource, actions] of needed) {
    const granted = grants.get(resource);
    if (granted === undefined) return false;
    for (const action of actions) if (!granted.has(action) && !granted.has('*')) return false;
  }
  return true;
}

/**
 * Decides what Authorization header a request gets, learns from challenges, and caches tokens per
 * scope. One per RegistryClient.
 */
export class RegistryAuthenticator {
  /** Keyed by the operation's scopes and by the challenge's realm, service and scopes. */
  private readonly tokens: LRUCache<string, CachedToken>;
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Set once the registry asked for Basic: later requests send it without waiting for a 401. */
  private basicLearned = false;

  constructor(
    private readonly config: ResolvedRegistryConfig,
    private readonly transport: HttpTransport,
    private readonly now: () => number = Date.now,
  ) {
    // On the same clock as expiresAt, read afresh each time (no ttlResolution), so an entry is
    // stale as soon as its token is.
    this.tokens = new LRUCache({ max: REGISTRY_TOKEN_CACHE.max, perf: { now }, ttlResolution: 0 });
  }

  /** The Authorization header to send before any challenge, if one is known for these scopes. */
  cached(scopes: readonly string[]): string | undefined {
    if (this.basicLearned) return this.basicAuthorization();
    this.tokens.purgeStale();
    const exact = this.tokens.get(`op:${scopeKey(scopes)}`);
    if (exact !== undefined) return exact.authorization;
    // A token asked for more (pull,push) serves a smaller need (pull) without another round trip.
    const needed = parseScopes(scopes);
    for (const entry of this.tokens.values()) {
      if (covers(entry.grants, needed)) return entry.authorization;
    }
    return undefined;
  }

  /**
   * Answers a 401: returns the Authorization header to retry with, or throws. `rejected` is the
   * header the registry just refused (dropped from the cache so it is not offered again).
   */
  async answer(
    headers: IncomingHttpHeaders,
    scopes: readonly string[],
    rejected: string | undefined,
    context: RegistryErrorDetails,
  ): Promise<string> {
    if (rejected !== undefined) this.forget(rejected);
    const challenges = challengesOf(headers);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer !== undefined) return this.bearer(bearer, scopes, context);
    if (basic !== undefined) {
      const authorization = this.basicAuthorization();
      if (authorization === undefined) {
        throw new RegistryError(
          'unauthorized',
          `registry ${this.config.host} wants a username and password (Basic); configure credentials for it`,
          context,
        );
      }
      this.basicLearned = true;
      return authorization;
    }
    throw new RegistryError(
      'unauthorized',
      `registry ${this.config.host} answered 401 without a Bearer or Basic challenge`,
      { ...context, status: 401 },
    );
  }

  private basicAuthorization(): string | undefined {
    const c = this.config.credentials;
    if (c === undefined || !('username' in c)) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
  }

  private forget(authorization: string): void {
    for (const [key, entry] of this.tokens) {
      if (entry.authorization === authorization) this.tokens.delete(key);
    }
  }

  private async bearer(
    challenge: AuthChallenge,
    opScopes: readonly string[],
    context: RegistryErrorDetails,
  ): Promise<string> {
    const { realm, service } = challenge.params;
    const scopes = challenge.params.scope ? challenge.params.scope.split(' ').filter(Boolean) : [...opScopes];
    const key = `ch:${realm ?? ''}|${service ?? ''}|${scopeKey(scopes)}`;
    const cached = this.tokens.get(key);
    let entry: CachedToken;
    if (cached !== undefined && cached.expiresAt > this.now()) {
      entry = cached;
    } else {
      let pending = this.inflight.get(key);
      if (pending === undefined) {
        pending = this.obtain(realm, service, scopes, context).finally(() => this.inflight.delete(key));
        this.inflight.set(key, pending);
      }
      entry = await pending;
      this.remember(key, entry);
    }
    this.remember(`op:${scopeKey(opScopes)}`, entry);
    return entry.authorization;
  }

  /** Cached until the token's expiry: LRUCache drops it then (and the least used past the bound). */
  private remember(key: string, entry: CachedToken): void {
    const ttl = entry.expiresAt - this.now();
    if (ttl > 0) this.tokens.set(key, entry, { ttl });
  }

  private async obtain(
    realm: string | undefined,
    service: string | undefined,
    scopes: readonly string[],
    context: RegistryErrorDetails,
  ): Promise<CachedToken> {
    const credentials = this.config.credentials;
    const scope = scopes.join(' ');
    if (credentials !== undefined && 'bearerToken' in credentials) {
      return this.entry(credentials.bearerToken, undefined, scopes);
    }
    if (realm === undefined || !URL.canParse(realm)) {
      throw new RegistryError(
        'protocol',
        `registry ${this.config.host} sent a Bearer challenge without a usable realm`,
        context,
      );
    }
    const realmUrl = new URL(realm);
    if (credentials !== undefined && 'tokenSupplier' in credentials) {
      let token: string;
      try {
        token = await credentials.tokenSupplier(scope, { realm: redactUrl(realmUrl), service });
      } catch (error) {
        if (error instanceof RegistryError) throw error;
        // The supplier's message may quote what it exchanged (tokens, assertions): only its class
        // and code are reported.
        const name = error instanceof Error ? error.name : typeof error;
        const code = (error as { code?: unknown } | undefined)?.code;
        throw new RegistryError(
          'unauthorized',
          `the token supplier for registry ${this.config.host} failed for scope "${scope}" ` +
            `(${name}${typeof code === 'string' ? ` ${code.slice(0, 64)}` : ''})`,
          { ...context, permanent: false },
        );
      }
      if (typeof token !== 'string' || token === '') {
        throw new RegistryError(
          'unauthorized',
          `the token supplier for registry ${this.config.host} returned no token for scope "${scope}"`,
          context,
        );
      }
      return this.entry(token, jwtExpiry(token), scopes);
    }
    return this.fetchFromRealm(realmUrl, service, scopes, context);
  }

  private entry(token: string, expiresAt: number | undefined, scopes: readonly string[]): CachedToken {
    const until = (expiresAt ?? this.now() + DEFAULT_TOKEN_SECONDS * 1000) - EXPIRY_MARGIN_MS;
    return { authorization: `Bearer ${token}`, expiresAt: until, grants: parseScopes(scopes) };
  }

  private async fetchFromRealm(
    realm: URL,
    service: string | undefined,
    scopes: readonly string[],
    context: RegistryErrorDetails,
  ): Promise<CachedToken> {
    const where = redactUrl(realm);
    if (!isAllowedRealm(realm, this.config.tokenRealms)) {
      throw new RegistryError(
        'unauthorized',
        `registry ${this.config.host} sent us for a token to ${where}, which is not one of its ` +
          `configured tokenRealms; nothing was sent there. Add that realm to the registry's ` +
          `tokenRealms if it is the registry's own token service.`,
        context,
      );
    }
    if (realm.protocol !== 'https:' && !this.config.insecure) {
      throw new RegistryError(
        'unauthorized',
        `token realm ${where} is not https; refusing to use it`,
        context,
      );
    }
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.append('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = this.basicAuthorization();
    if (basic !== undefined) headers.authorization = basic;
    const scopeText = scopes.join(' ');
    const response = await this.transport.send({ method: 'GET', url, headers }, context);
    if (response.status !== 200) {
      discard(response);
      const anonymous = basic === undefined ? ' (anonymously: no credentials are configured)' : '';
      const status = response.status;
      if (status === 401 || status === 403) {
        throw new RegistryError(
          'unauthorized',
          `token service ${where} refused a token for "${scopeText}"${anonymous} with ${status}; ` +
            `check the credentials configured for registry ${this.config.host}`,
          { ...context, status },
        );
      }
      if (status >= 300 && status < 400) {
        throw new RegistryError(
          'protocol',
          `token service ${where} answered with a redirect (${status}); redirects are not followed for tokens`,
          { ...context, status },
        );
      }
      throw new RegistryError(
        status >= 500 || status === 429 ? 'unavailable' : 'protocol',
        `token service ${where} answered ${status} for "${scopeText}"`,
        { ...context, status },
      );
    }
    const body = await readBody(response, MAX_TOKEN_RESPONSE_BYTES, `token response from ${where}`, context);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryError(
        'protocol',
        `token service ${where} answered with something that is not JSON`,
        context,
      );
    }
    const token =
      typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError('protocol', `token service ${where} answered without a token`, context);
    }
    const seconds =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0
        ? parsed.expires_in
        : DEFAULT_TOKEN_SECONDS;
    return this.entry(token, this.now() + seconds * 1000, scopes);
  }
}
