import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './args';
import { DEFAULT_SERVER, resolveServer, resolveToken } from './config';

describe('resolveServer', () => {
  it('prefers --server, then AIRLOCK_SERVER, then the default', () => {
    expect(resolveServer({ server: 'https://a.example/' }, { AIRLOCK_SERVER: 'http://b' })).toBe(
      'https://a.example',
    );
    expect(resolveServer({}, { AIRLOCK_SERVER: 'http://b:9/base/' })).toBe('http://b:9/base');
    expect(resolveServer({}, {})).toBe(DEFAULT_SERVER);
  });

  it.each(['nope', 'ftp://x', 'http://x/?a=1', 'https://user:pw@x'])('refuses %p', (server) => {
    expect(() => resolveServer({ server }, {})).toThrow(UsageError);
  });
});

describe('resolveToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-'));
  const file = join(dir, 'token');
  writeFileSync(file, 'from-file\n');

  it('prefers --token, then --token-file, then AIRLOCK_TOKEN, then AIRLOCK_TOKEN_FILE', async () => {
    const env = { AIRLOCK_TOKEN: 'from-env', AIRLOCK_TOKEN_FILE: file };
    await expect(resolveToken({ token: 'from-flag' }, env)!()).resolves.toBe('from-flag');
    await expect(resolveToken({ 'token-file': file }, env)!()).resolves.toBe('from-file');
    await expect(resolveToken({}, env)!()).resolves.toBe('from-env');
    await expect(resolveToken({}, { AIRLOCK_TOKEN_FILE: file })!()).resolves.toBe('from-file');
    expect(resolveToken({}, {})).toBeUndefined();
  });

  it('re-reads the token file on every call', async () => {
    const source = resolveToken({ 'token-file': file }, {})!;
    writeFileSync(file, 'rotated');
    await expect(source()).resolves.toBe('rotated');
  });

  it('refuses both flags, and never echoes a bad token', async () => {
    expect(() => resolveToken({ token: 'a', 'token-file': file }, {})).toThrow(/not both/);
    const secret = 'sekrit part\nother';
    let message = '';
    try {
      resolveToken({ token: secret }, {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/not a bearer token/);
    expect(message).not.toContain('sekrit');
    await expect(resolveToken({ 'token-file': join(dir, 'missing') }, {})!()).rejects.toThrow(/ENOENT/);
  });
});
