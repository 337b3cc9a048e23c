import { type IncomingHttpHeaders } from 'node:http';
import { type HttpTransport } from './http-transport';
import { resolveRegistryConfig } from './registry-config';
import {
  type AuthChallenge,
  challengesOf,
  parseWwwAuthenticate,
  REGISTRY_TOKEN_CACHE,
  RegistryAuthenticator,
} from './token-auth';

describe(parseWwwAuthenticate.name, () => {
  // Challenges as registries send them (distribution, Harbor, GHCR, ECR) and the odd shapes RFC 9110 allows.
  it.each<[string, string, AuthChallenge[]]>([
    [
      'a distribution bearer challenge',
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example.com/token',
            service: 'registry.example.com',
            scope: 'repository:app:pull',
          },
        },
      ],
    ],
    [
      'a scope with two actions (a comma inside quotes)',
      'Bearer realm="https://a/token",scope="repository:app:pull,push"',
      [{ scheme: 'bearer', params: { realm: 'https://a/token', scope: 'repository:app:pull,push' } }],
    ],
    [
      'a basic challenge',
      'Basic realm="Registry Realm"',
      [{ scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ],
    [
      'scheme and names are case-insensitive',
      'BEARER Realm="x"',
      [{ scheme: 'bearer', params: { realm: 'x' } }],
    ],
    [
      'unquoted token values',
      'Bearer realm=x, service=y',
      [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }],
    ],
    [
      'spaces around = and ,',
      'Bearer  realm = "x" ,  service = "y"',
      [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }],
    ],
    [
      'escaped quotes in a value',
      'Basic realm="a \\"quoted\\" realm"',
      [{ scheme: 'basic', params: { realm: 'a "quoted" realm' } }],
    ],
    [
      'two challenges in one header',
      'Basic realm="b", Bearer realm="https://a/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'b' } },
        { scheme: 'bearer', params: { realm: 'https://a/token', service: 's' } },
      ],
    ],
    ['a scheme without parameters', 'Negotiate', [{ scheme: 'negotiate', params: {} }]],
    ['an empty header', '', []],
    [
      'a parameter before any scheme is ignored',
      'realm="x", Bearer service="y"',
      [{ scheme: 'bearer', params: { service: 'y' } }],
    ],
    [
      'an unterminated quote ends at the end',
      'Bearer realm="https://a/token',
      [{ scheme: 'bearer', params: { realm: 'https://a/token' } }],
    ],
    ['stray characters are skipped', 'Bearer ;realm="x"', [{ scheme: 'bearer', params: { realm: 'x' } }]],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe(challengesOf.name, () => {
  it.each<[string, string | string[] | undefined, string[]]>([
    ['no header', undefined, []],
    ['one header', 'Bearer realm="x"', ['bearer']],
    ['repeated headers', ['Basic realm="b"', 'Bearer realm="x"'], ['basic', 'bearer']],
  ])('%s', (_name, value, schemes) => {
    // Node types the header as one string; a registry may still send it twice.
    expect(challengesOf({ 'www-authenticate': value } as IncomingHttpHeaders).map((c) => c.scheme)).toEqual(
      schemes,
    );
  });
});

describe(`${RegistryAuthenticator.name}'s token cache`, () => {
  const T0 = Date.parse('2026-06-01T12:00:00Z');
  /** An unsigned JWT: the cache reads only `exp`. */
  const jwt = (exp: number, n: number): string =>
    ['e30', Buffer.from(JSON.stringify({ exp, n })).toString('base64url'), 'sig'].join('.');

  function authenticator() {
    let now = T0;
    const asked: string[] = [];
    const config = resolveRegistryConfig({
      host: 'registry.example.com',
      credentials: {
        tokenSupplier: async (scope) => {
          asked.push(scope);
          return jwt(Math.floor(now / 1000) + 300, asked.length);
        },
      },
    });
    const auth = new RegistryAuthenticator(config, {} as HttpTransport, () => now);
    const challenge = (scope: string): IncomingHttpHeaders => ({
      'www-authenticate': `Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="${scope}"`,
    });
    const answer = (scope: string) => auth.answer(challenge(scope), [scope], undefined, {});
    return { auth, asked, answer, advance: (ms: number) => (now += ms) };
  }

  it('serves a token until its own expiry (less a margin), then asks again', async () => {
    const { auth, asked, answer, advance } = authenticator();
    const scope = 'repository:app:pull';
    const first = await answer(scope);
    expect(auth.cached([scope])).toBe(first);
    expect(await answer(scope)).toBe(first);
    expect(asked).toHaveLength(1);
    advance(300_000 - 10_000);
    expect(auth.cached([scope])).toBe(first);
    advance(1);
    expect(auth.cached([scope])).toBeUndefined();
    const second = await answer(scope);
    expect(second).not.toBe(first);
    expect(asked).toHaveLength(2);
  });

  it('lets a token asked for more serve a smaller need, and forgets one the registry refused', async () => {
    const { auth, answer } = authenticator();
    const both = await answer('repository:app:pull,push');
    expect(auth.cached(['repository:app:pull'])).toBe(both);
    await auth
      .answer({ 'www-authenticate': 'Basic realm="x"' }, ['repository:app:pull'], both, {})
      .catch(() => undefined);
    expect(auth.cached(['repository:app:pull'])).toBeUndefined();
  });

  it(`holds at most ${REGISTRY_TOKEN_CACHE.max} entries, dropping the least recently used`, async () => {
    const { auth, answer } = authenticator();
    for (let i = 0; i < REGISTRY_TOKEN_CACHE.max; i++) await answer(`repository:app-${i}:pull`);
    expect(auth.cached(['repository:app-0:pull'])).toBeUndefined();
    expect(auth.cached([`repository:app-${REGISTRY_TOKEN_CACHE.max - 1}:pull`])).toBeDefined();
  });
});
