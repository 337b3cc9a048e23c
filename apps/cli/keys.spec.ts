import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verificationKey, VerificationKeys } from '../../libs/domain/signing-key-set';
import { run } from './cli';

// `airlock keys`: the public key set, fetched without a token, for the offline verifiers' --keys.

const set = VerificationKeys.of([
  verificationKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, { current: true }),
  verificationKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, {
    notAfter: new Date('2026-06-01T00:00:00Z'),
  }),
]).published();

async function keys(args: string[]) {
  let stdout = '';
  let stderr = '';
  const requests: Array<{ url: string; authorization: string | null }> = [];
  const code = await run({
    argv: ['keys', ...args],
    env: { AIRLOCK_SERVER: 'http://airlock.test' },
    stdout: { write: (s: string | Uint8Array) => (stdout += String(s)) },
    stderr: { write: (s: string | Uint8Array) => (stderr += String(s)) },
    fetch: (async (url: URL, init: RequestInit) => {
      requests.push({
        url: String(url),
        authorization: new Headers(init.headers).get('authorization'),
      });
      return new Response(JSON.stringify(set), { headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch,
  });
  return { code, stdout, stderr, requests };
}

describe('airlock keys', () => {
  it('fetches GET /v1/keys without a token and writes it for --keys', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'airlock-keys-cli-')), 'keys.json');
    const r = await keys(['--out', out]);
    expect(r.code).toBe(0);
    expect(r.requests).toEqual([{ url: 'http://airlock.test/v1/keys', authorization: null }]);
    expect(r.stderr).toBe(`wrote 2 keys to ${out}\n`);
    expect(VerificationKeys.fromPublished(JSON.parse(readFileSync(out, 'utf8'))).published()).toEqual(set);
  });

  it('lists the keys, current first, with their periods', async () => {
    const r = await keys([]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      `${set.keys[0].keyId}  current   - .. -`,
      `${set.keys[1].keyId}  previous  - .. 2026-06-01T00:00:00.000Z`,
      '',
    ]);
  });
});
