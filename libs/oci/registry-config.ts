import { RegistryError } from './errors';

/**
 * Supplies a registry bearer token for the scopes a registry asked for, e.g. by exchanging an
 * OIDC credential for a token that is valid for minutes. `scope` is the space-separated scope list
 * of the registry's challenge (`repository:prod/app:pull,push`). The client caches the token until
 * its `exp` (when it is a JWT) or for 60 seconds.
 */
export type RegistryTokenSupplier = (
  scope: string,
  challenge: { realm: string; service?: string },
) => Promise<string>;

/**
 * How the client proves who it is.
 * - `username`/`password`: sent as Basic credentials to the registry on a Basic challenge, or to a
 *   token realm listed in `tokenRealms` on a Bearer challenge (Docker token protocol).
 * - `bearerToken`: a registry token used as is on a Bearer challenge (never sent to a realm).
 * - `tokenSupplier`: asked for a token on each Bearer challenge whose scope has no cached token.
 */
export type RegistryCredentials =
  { username: string; password: string } | { bearerToken: string } | { tokenSupplier: RegistryTokenSupplier };

/** One registry an admin configured. The client never talks to a host that is not named here. */
export interface RegistryConfig {
  /** `host[:port]`, e.g. `registry.example.com` or `127.0.0.1:5000`. */
  host: string;
  /** Plain http instead of https (loopback and tests only). */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  /**
   * Token services the registry may send us to. An entry is an origin (`https://auth.example.com`,
   * any path there) or a URL prefix (`https://auth.example.com/token`). A challenge naming any other
   * realm is refused, with or without credentials.
   */
  tokenRealms?: string[];
  /**
   * Hosts (`host[:port]`) that GET/HEAD may be redirected to, e.g. blob storage. Redirects anywhere
   * else are refused. Credentials are never sent to them.
   */
  redirectHosts?: string[];
  /** Connect/idle timeout for each request; default 30 s. */
  timeoutMs?: number;
  /**
   * Overall deadline of one request, body included, on top of what its known size needs at
   * `minBytesPerSecond`; default 120 s. See TransferLimits.
   */
  deadlineMs?: number;
  /** Slowest transfer accepted while a body flows (bytes/s, over a window); default 1 MiB/s. */
  minBytesPerSecond?: number;
  /** Largest manifest (or referrers index) read; default 4 MiB. */
  maxManifestBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_DEADLINE_MS = 120_000;
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024 * 1024;

/** RegistryConfig with defaults applied and every URL parsed. */
export interface ResolvedRegistryConfig {
  host: string;
  /** `https://host[:port]` (or http when insecure). */
  origin: string;
  insecure: boolean;
  credentials?: RegistryCredentials;
  tokenRealms: URL[];
  redirectHosts: ReadonlySet<string>;
  timeoutMs: number;
  deadlineMs: number;
  minBytesPerSecond: number;
  maxManifestBytes: number;
}

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;

function invalid(message: string): RegistryError {
  return new RegistryError('invalid_request', `registry configuration: ${message}`);
}

function checkHost(value: string, what: string): string {
  const host = value.toLowerCase();
  if (!HOST.test(host)) throw invalid(`${what} ${JSON.stringify(value)} is not host[:port]`);
  const port = host.includes(':') ? Number(host.split(':')[1]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw invalid(`${what} ${value}: port out of range`);
  return host;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(`${what} must be a positive integer`);
  return value;
}

export function resolveRegistryConfig(config: RegistryConfig): ResolvedRegistryConfig {
  const host = checkHost(config.host, 'host');
  const insecure = config.insecure === true;
  const tokenRealms = (config.tokenRealms ?? []).map((realm) => {
    if (!URL.canParse(realm)) throw invalid(`token realm ${JSON.stringify(realm)} is not a URL`);
    const url = new URL(realm);
    if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:')) {
      throw invalid(`token realm ${url.origin} must use https (http only for an insecure registry)`);
    }
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw invalid(`token realm ${url.origin}${url.pathname} must not carry a query, fragment or user info`);
    }
    return url;
  });
  const credentials = config.credentials;
  if (credentials !== undefined) {
    if (
      'username' in credentials &&
      (credentials.username === '' || typeof credentials.password !== 'string')
    ) {
      throw invalid('credentials need a non-empty username and a password');
    }
    if ('bearerToken' in credentials && credentials.bearerToken === '') {
      throw invalid('credentials.bearerToken is empty');
    }
  }
  return {
    host,
    origin: `${insecure ? 'http' : 'https'}://${host}`,
    insecure,
    credentials,
    tokenRealms,
    redirectHosts: new Set((config.redirectHosts ?? []).map((h) => checkHost(h, 'redirect host'))),
    timeoutMs: positive(config.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    deadlineMs: positive(config.deadlineMs, DEFAULT_DEADLINE_MS, 'deadlineMs'),
    minBytesPerSecond: positive(config.minBytesPerSecond, DEFAULT_MIN_BYTES_PER_SECOND, 'minBytesPerSecond'),
    maxManifestBytes: positive(config.maxManifestBytes, DEFAULT_MAX_MANIFEST_BYTES, 'maxManifestBytes'),
  };
}

/**
 * Whether `realm` is one of the configured token realms: same origin, and when the entry has a
 * path, the realm's path equals it or continues it after a `/`.
 */
export function isAllowedRealm(realm: URL, allowed: readonly URL[]): boolean {
  return allowed.some((entry) => {
    if (realm.origin !== entry.origin) return false;
    if (entry.pathname === '/' || entry.pathname === realm.pathname) return true;
    const prefix = entry.pathname.endsWith('/') ? entry.pathname : `${entry.pathname}/`;
    return realm.pathname.startsWith(prefix);
  });
}
