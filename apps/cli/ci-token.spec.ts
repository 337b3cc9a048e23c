import { UsageError } from './args';
import { ciTokenSource } from './ci-token';
import { resolveToken } from './config';

const jwt = (exp: number): string => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;

/** A fetch that answers like GitHub's token endpoint and records what it was asked. */
function githubEndpoint(answer: () => Response = () => Response.json({ count: 1, value: jwt(2_000) })) {
  const calls: Array<{ url: string; authorization: string | null }> = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: input instanceof Request ? input.url : input.toString(),
      authorization: new Headers(init?.headers).get('authorization'),
    });
    return answer();
  }) as typeof fetch;
  return { calls, fetchFn };
}

const GITHUB = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.example.com/oidc/token?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-token',
};

describe('ciTokenSource', () => {
  it('asks GitHub Actions for a token with the audience, as @actions/core does', async () => {
    const { calls, fetchFn } = githubEndpoint();
    const source = ciTokenSource({ ...GITHUB, AIRLOCK_AUDIENCE: 'airlock-prod' }, fetchFn, () => 0)!;
    expect(source.provider).toBe('github-actions');
    await expect(source.token()).resolves.toBe(jwt(2_000));
    const url = new URL(calls[0].url);
    expect(url.searchParams.get('api-version')).toBe('2.0');
    expect(url.searchParams.get('audience')).toBe('airlock-prod');
    expect(calls[0].authorization).toBe('Bearer runtime-token');
  });

  it('defaults the audience to airlock, and reuses the token until a minute before it expires', async () => {
    const { calls, fetchFn } = githubEndpoint();
    let now = 0;
    const source = ciTokenSource(GITHUB, fetchFn, () => now)!;
    await source.token();
    now = 1_000_000; // 1,000 s: 1,000 s left of exp 2,000 s
    await source.token();
    expect(calls).toHaveLength(1);
    expect(new URL(calls[0].url).searchParams.get('audience')).toBe('airlock');
    now = 1_941_000; // 59 s left
    await source.token();
    expect(calls).toHaveLength(2);
  });

  it('says what GitHub needs when its endpoint refuses, and never echoes the answer', async () => {
    const { fetchFn } = githubEndpoint(() => new Response('{"message":"secret-ish"}', { status: 403 }));
    const error = await ciTokenSource(GITHUB, fetchFn)!
      .token()
      .catch((e: Error) => e);
    expect((error as Error).message).toMatch(/answered 403.*id-token: write/);
    expect((error as Error).message).not.toContain('secret-ish');
  });

  it('refuses an answer without a token', async () => {
    const { fetchFn } = githubEndpoint(() => Response.json({ count: 0 }));
    await expect(ciTokenSource(GITHUB, fetchFn)!.token()).rejects.toThrow(/no "value"/);
  });

  it('reads GitLab id_tokens from the variable configured, in a GitLab job', async () => {
    const gitlab = ciTokenSource({ GITLAB_CI: 'true', AIRLOCK_ID_TOKEN: ' gl-token \n' })!;
    expect(gitlab.provider).toBe('gitlab-ci');
    await expect(gitlab.token()).resolves.toBe('gl-token');
    const named = ciTokenSource({
      GITLAB_CI: 'true',
      AIRLOCK_ID_TOKEN_VARIABLE: 'PROD_ID',
      PROD_ID: 'x.y.z',
    })!;
    await expect(named.token()).resolves.toBe('x.y.z');
    expect(ciTokenSource({ GITLAB_CI: 'true' })).toBeUndefined();
    expect(() => ciTokenSource({ GITLAB_CI: 'true', AIRLOCK_ID_TOKEN: 'two words' })).toThrow(UsageError);
  });

  it('is nothing outside a CI that provides tokens', () => {
    expect(ciTokenSource({})).toBeUndefined();
    expect(ciTokenSource({ ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' })).toBeUndefined();
  });
});

describe('resolveToken with a CI token', () => {
  it('prefers the flags, then the CI token, then AIRLOCK_TOKEN', async () => {
    const { fetchFn } = githubEndpoint();
    const env = { ...GITHUB, AIRLOCK_TOKEN: 'from-env' };
    await expect(resolveToken({ token: 'from-flag' }, env, fetchFn)!()).resolves.toBe('from-flag');
    await expect(resolveToken({}, env, fetchFn)!()).resolves.toBe(jwt(2_000));
    await expect(resolveToken({}, { AIRLOCK_TOKEN: 'from-env' }, fetchFn)!()).resolves.toBe('from-env');
  });
});
