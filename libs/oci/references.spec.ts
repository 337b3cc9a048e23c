import { sha256Digest, isSha256Digest } from './digest-stream';
import { RegistryError, redactUrl } from './errors';
import {
  assertDigest,
  assertReference,
  assertRepository,
  digestTag,
  isTag,
  repositoryScope,
} from './references';
import { isAllowedRealm, resolveRegistryConfig, type RegistryConfig } from './registry-config';
import { rateWindowMs } from './http-transport';

const hex = 'ab'.repeat(32);
const digest = `sha256:${hex}`;

function refusal(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegistryError) return e;
    throw e;
  }
  throw new Error('expected a RegistryError');
}

describe(assertRepository.name, () => {
  it.each([
    'app',
    'team/app',
    'a/b/c',
    'my-app',
    'my--app',
    'my_app',
    'my__app',
    'my.app',
    'a0/b1',
    'x'.repeat(255),
  ])('accepts %s', (repository) => expect(() => assertRepository(repository)).not.toThrow());
  it.each([
    '',
    'App',
    'app/',
    '/app',
    'a//b',
    '-app',
    'app-',
    'a___b',
    'a..b',
    'a/../b',
    'app:tag',
    'app@sha256',
    'a b',
    '%2e%2e',
    'x'.repeat(256),
  ])('refuses %j', (repository) =>
    expect(refusal(() => assertRepository(repository)).kind).toBe('invalid_request'),
  );
});

describe(assertReference.name, () => {
  it.each<[string, boolean]>([
    [digest, true],
    ['latest', false],
    ['v1.2.3', false],
    ['_underscore', false],
    ['sha256-' + hex + '.sig', false],
    ['x'.repeat(128), false],
  ])('accepts %s (digest: %s)', (reference, isDigest) => {
    expect(assertReference(reference)).toEqual({ isDigest });
  });
  it.each([
    '',
    '.hidden',
    '-dash',
    'a/b',
    'a:b',
    'x'.repeat(129),
    `sha256:${hex.toUpperCase()}`,
    `sha512:${hex}${hex}`,
    '../x',
  ])('refuses %j', (reference) =>
    expect(refusal(() => assertReference(reference)).kind).toBe('invalid_request'),
  );
  it('isTag agrees on tags only', () => {
    expect(isTag('latest')).toBe(true);
    expect(isTag(digest)).toBe(false);
  });
});

describe(digestTag.name, () => {
  it.each<[string | undefined, string]>([
    [undefined, `sha256-${hex}`],
    ['sig', `sha256-${hex}.sig`],
    ['att', `sha256-${hex}.att`],
  ])('suffix %s → %s', (suffix, tag) => {
    expect(digestTag(digest, suffix)).toBe(tag);
    expect(isTag(tag)).toBe(true);
  });
  it.each<[string, string | undefined]>([
    ['not a digest', undefined],
    [digest, 'SIG'],
    [digest, 'a.b'],
    [digest, ''],
    [digest, 'x'.repeat(33)],
  ])('refuses %s with suffix %j', (d, suffix) => {
    expect(refusal(() => digestTag(d, suffix)).kind).toBe('invalid_request');
  });
});

describe('digests', () => {
  it('sha256Digest names the bytes as isSha256Digest expects', () => {
    expect(sha256Digest(Buffer.from(''))).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(isSha256Digest(sha256Digest(Buffer.from('x')))).toBe(true);
  });
  it.each([`sha256:${hex}`.slice(0, -1), `sha256:${hex}0`, `SHA256:${hex}`, ` sha256:${hex}`, hex])(
    '%j is not a digest',
    (value) => {
      expect(isSha256Digest(value)).toBe(false);
      expect(refusal(() => assertDigest(value)).kind).toBe('invalid_request');
    },
  );
});

describe(repositoryScope.name, () => {
  it('names the repository and actions in the token protocol form', () => {
    expect(repositoryScope('team/app', 'pull')).toBe('repository:team/app:pull');
    expect(repositoryScope('app', 'pull,push')).toBe('repository:app:pull,push');
  });
});

describe(redactUrl.name, () => {
  it.each<[string, string]>([
    [
      'https://r.example.com/v2/app/blobs/uploads/abc?_state=secret&digest=x',
      'https://r.example.com/v2/app/blobs/uploads/abc',
    ],
    ['https://user:pass@r.example.com:5000/v2/#frag', 'https://r.example.com:5000/v2/'],
    ['not a url', '(unparseable URL)'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe(resolveRegistryConfig.name, () => {
  it('applies defaults and derives the origin', () => {
    const resolved = resolveRegistryConfig({ host: 'Registry.Example.com:5000' });
    expect(resolved).toMatchObject({
      host: 'registry.example.com:5000',
      origin: 'https://registry.example.com:5000',
      insecure: false,
      tokenRealms: [],
    });
    expect(resolved.timeoutMs).toBeGreaterThan(0);
    expect(resolveRegistryConfig({ host: 'localhost:5000', insecure: true }).origin).toBe(
      'http://localhost:5000',
    );
  });

  it.each<[string, RegistryConfig, RegExp]>([
    ['a host with a scheme', { host: 'https://r.example.com' }, /is not host\[:port\]/],
    ['a host with a path', { host: 'r.example.com/v2' }, /is not host\[:port\]/],
    ['port 0', { host: 'r.example.com:0' }, /port out of range/],
    ['port 70000', { host: 'r.example.com:70000' }, /port out of range/],
    ['an http realm for a TLS registry', { host: 'r', tokenRealms: ['http://auth/token'] }, /must use https/],
    [
      'a realm with a query',
      { host: 'r', tokenRealms: ['https://auth/token?x=1'] },
      /must not carry a query/,
    ],
    ['a realm with user info', { host: 'r', tokenRealms: ['https://u:p@auth/token'] }, /must not carry/],
    ['a realm that is not a URL', { host: 'r', tokenRealms: ['auth/token'] }, /is not a URL/],
    ['an empty username', { host: 'r', credentials: { username: '', password: 'p' } }, /non-empty username/],
    ['an empty bearer token', { host: 'r', credentials: { bearerToken: '' } }, /bearerToken is empty/],
    ['a zero timeout', { host: 'r', timeoutMs: 0 }, /timeoutMs must be a positive integer/],
    ['a fractional deadline', { host: 'r', deadlineMs: 1.5 }, /deadlineMs must be a positive integer/],
    ['a bad redirect host', { host: 'r', redirectHosts: ['https://cdn'] }, /redirect host/],
  ])('refuses %s', (_name, config, message) => {
    const error = refusal(() => resolveRegistryConfig(config));
    expect(error.kind).toBe('invalid_request');
    expect(error.message).toMatch(message);
  });

  it('allows an http realm only for an insecure registry', () => {
    expect(
      resolveRegistryConfig({ host: 'r', insecure: true, tokenRealms: ['http://auth/token'] }).tokenRealms[0]
        .href,
    ).toBe('http://auth/token');
  });
});

describe(isAllowedRealm.name, () => {
  const allowed = [new URL('https://auth.example.com/token'), new URL('https://other.example.com/')];
  it.each<[string, boolean]>([
    ['https://auth.example.com/token', true],
    ['https://auth.example.com/token/v2', true],
    ['https://auth.example.com/tokenx', false],
    ['https://auth.example.com/', false],
    ['http://auth.example.com/token', false],
    ['https://auth.example.com:8443/token', false],
    ['https://other.example.com/anything', true],
    ['https://evil.example.com/token', false],
  ])('%s → %s', (realm, expected) => {
    expect(isAllowedRealm(new URL(realm), allowed)).toBe(expected);
  });
});

describe(rateWindowMs.name, () => {
  it.each<[number, number]>([
    [500, 1000],
    [5000, 5000],
    [120_000, 10_000],
  ])('deadline %d ms → window %d ms', (deadlineMs, window) => {
    expect(rateWindowMs({ deadlineMs, minBytesPerSecond: 1 })).toBe(window);
  });
});
