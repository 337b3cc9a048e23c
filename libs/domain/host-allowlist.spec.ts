import { classifyHost, isPrivateAddress, matchingHostPattern, parseHostPatterns } from './host-allowlist';

describe('AIRLOCK_ALLOWED_HOSTS patterns', () => {
  const patterns = parseHostPatterns(
    'registry.example.com, *.corp.example.com:5000,127.0.0.1:*,[::1]:443,Auth.Example.com:*',
  );

  it.each([
    ['registry.example.com', true],
    ['REGISTRY.example.com', true],
    ['registry.example.com:443', false], // no port in the pattern: only the default port
    ['registry.example.com.evil.com', false],
    ['evil-registry.example.com', false],
    ['a.corp.example.com:5000', true],
    ['a.corp.example.com', false],
    ['a.corp.example.com:5001', false],
    ['corp.example.com:5000', false], // `*` is exactly one label
    ['a.b.corp.example.com:5000', false],
    ['127.0.0.1:5000', true],
    ['127.0.0.1', true], // a port of * also matches the default port
    ['127.0.0.2:5000', false],
    ['[::1]:443', true],
    ['[0:0:0:0:0:0:0:1]:443', true],
    ['[::1]', false],
    ['auth.example.com:8443', true],
    ['', false],
  ])('%s → %s', (host, allowed) => {
    expect(matchingHostPattern(patterns, host.toLowerCase()) !== undefined).toBe(allowed);
  });

  it('allows nothing when empty', () => {
    expect(parseHostPatterns('')).toEqual([]);
    expect(matchingHostPattern(parseHostPatterns(' , '), 'registry.example.com')).toBeUndefined();
  });

  it.each([
    'http://registry.example.com',
    'registry.example.com/path',
    'registry.example.com:0',
    'registry.example.com:70000',
    'registry.example.com:',
    'reg*.example.com',
    '-bad.example.com',
    'a..b',
    '[::g]:1',
    'a:b:c',
    `${'a'.repeat(64)}.example.com`,
  ])('refuses the pattern %p', (text) => {
    expect(() => parseHostPatterns(`ok.example.com,${text}`)).toThrow(JSON.stringify(text));
  });
});

describe(isPrivateAddress.name, () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::a00:1', true],
    ['2606:4700::1111', false],
    ['not-an-address', true],
  ])('%s → %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe(classifyHost.name, () => {
  it('tells addresses, this machine and names apart', () => {
    expect(classifyHost('127.0.0.1')).toEqual({ kind: 'address', address: '127.0.0.1', private: true });
    expect(classifyHost('[::1]')).toEqual({ kind: 'address', address: '::1', private: true });
    expect(classifyHost('LOCALHOST')).toEqual({ kind: 'local-name' });
    expect(classifyHost('api.localhost.')).toEqual({ kind: 'local-name' });
    expect(classifyHost('registry.example.com')).toEqual({ kind: 'name', name: 'registry.example.com' });
  });
});
