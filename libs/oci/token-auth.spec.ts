import { type IncomingHttpHeaders } from 'node:http';
import { type AuthChallenge, challengesOf, parseWwwAuthenticate } from './token-auth';

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
