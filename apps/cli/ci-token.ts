import { UsageError } from './args';
import { type Env } from './config';

/** The audience Airlock's CI issuers are configured with unless the deployment says otherwise. */
export const DEFAULT_AUDIENCE = 'airlock';

/** GitLab's `id_tokens` variable the CLI reads when AIRLOCK_ID_TOKEN_VARIABLE names none. */
export const DEFAULT_GITLAB_VARIABLE = 'AIRLOCK_ID_TOKEN';

/** A token is fetched again when it has less than this left: a `promote --wait` can outlive one. */
const REFRESH_BEFORE_EXPIRY_MS = 60_000;

export interface CiTokenSource {
  /** Which CI provided it, for `whoami` and error messages: never the token. */
  provider: 'github-actions' | 'gitlab-ci';
  token(): Promise<string>;
}

/** Seconds since the epoch from a JWT's `exp`, or undefined: the CLI does not verify, only schedules. */
function expiresAtMs(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * GitHub Actions' OIDC token, as `@actions/core`'s getIDToken asks for it: GET the request URL
 * (which already carries `api-version`) with `audience` added, the request token as a bearer, and
 * read `value` from the JSON answer. Only present when the job has `permissions: id-token: write`.
 */
function githubActions(env: Env, audience: string, fetchFn: typeof fetch, now: () => number): CiTokenSource {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL!;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!;
  let cached: { token: string; refreshAt: number } | undefined;
  return {
    provider: 'github-actions',
    async token() {
      if (cached && now() < cached.refreshAt) return cached.token;
      let url: URL;
      try {
        url = new URL(requestUrl);
      } catch {
        throw new UsageError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
      }
      url.searchParams.set('audience', audience);
      let res: Response;
      try {
        res = await fetchFn(url, {
          headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        throw new Error(`cannot reach GitHub's OIDC token endpoint: ${(e as Error).message}`);
      }
      if (!res.ok) {
        // GitHub answers 403/404 when the job lacks `id-token: write`: say so rather than echo a body.
        throw new Error(
          `GitHub's OIDC token endpoint answered ${res.status}: does the job have "permissions: id-token: write"?`,
        );
      }
      const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
      if (typeof body?.value !== 'string' || !/^[\x21-\x7e]+$/.test(body.value)) {
        throw new Error(`GitHub's OIDC token endpoint gave no token (no "value" in its answer)`);
      }
      const exp = expiresAtMs(body.value);
      cached = { token: body.value, refreshAt: exp === undefined ? 0 : exp - REFRESH_BEFORE_EXPIRY_MS };
      return body.value;
    },
  };
}

/** GitLab CI's `id_tokens:` are plain variables named in the job; the CLI reads the one configured. */
function gitlabCi(env: Env, variable: string): CiTokenSource | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new UsageError(`the token in ${variable} is not a bearer token (one line of printable characters)`);
  }
  return { provider: 'gitlab-ci', token: () => Promise.resolve(value) };
}

/**
 * The workload's own OIDC token where the CI provides one: GitHub Actions' token endpoint, or the
 * GitLab `id_tokens` variable named by AIRLOCK_ID_TOKEN_VARIABLE (default AIRLOCK_ID_TOKEN) inside
 * a GitLab job. The audience is AIRLOCK_AUDIENCE (default `airlock`), as the deployment's trusted
 * issuer expects it.
 */
export function ciTokenSource(
  env: Env,
  fetchFn: typeof fetch = fetch,
  now: () => number = Date.now,
): CiTokenSource | undefined {
  const audience = env.AIRLOCK_AUDIENCE?.trim() || DEFAULT_AUDIENCE;
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    return githubActions(env, audience, fetchFn, now);
  }
  if (env.GITLAB_CI === 'true' || env.AIRLOCK_ID_TOKEN_VARIABLE) {
    return gitlabCi(env, env.AIRLOCK_ID_TOKEN_VARIABLE?.trim() || DEFAULT_GITLAB_VARIABLE);
  }
  return undefined;
}
