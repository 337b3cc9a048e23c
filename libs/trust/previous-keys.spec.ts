import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeySetError } from '../domain/signing-key-set';
import { loadVerificationKeys } from './previous-keys';
import { SigningKey } from './signing-key';

const dir = mkdtempSync(join(tmpdir(), 'airlock-previous-keys-'));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const current = SigningKey.fromPem(p256().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const old = p256();
const oldPem = write('old.pem', old.publicKey.export({ type: 'spki', format: 'pem' }).toString());

describe(loadVerificationKeys.name, () => {
  it('is the current key alone without a previous-keys file', () => {
    const keys = loadVerificationKeys(current, undefined);
    expect(keys.published().keys).toEqual([
      expect.objectContaining({ keyId: current.keyId, current: true, notBefore: null, notAfter: null }),
    ]);
  });

  it('adds each previous key with its period; paths are relative to the file', () => {
    const file = write(
      'previous.json',
      JSON.stringify([
        { publicKeyFile: 'old.pem', notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-06-01T00:00:00Z' },
      ]),
    );
    const keys = loadVerificationKeys(current, file).published().keys;
    expect(keys).toHaveLength(2);
    expect(keys[1]).toMatchObject({
      current: false,
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-06-01T00:00:00.000Z',
    });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /not JSON/],
    ['not an array', '{}', /not a JSON array/],
    [
      'an entry without publicKeyFile',
      '[{"notAfter":"2026-06-01T00:00:00Z"}]',
      /entry 0: publicKeyFile is missing/,
    ],
    [
      'an entry without notAfter',
      `[{"publicKeyFile":${JSON.stringify(oldPem)}}]`,
      /entry 0: notAfter .* is missing/,
    ],
    [
      'an unknown field',
      `[{"publicKeyFile":${JSON.stringify(oldPem)},"notAfter":"2026-06-01T00:00:00Z","privateKeyFile":"x"}]`,
      /unknown field privateKeyFile/,
    ],
    [
      'a missing key file',
      '[{"publicKeyFile":"missing.pem","notAfter":"2026-06-01T00:00:00Z"}]',
      /cannot read publicKeyFile .*ENOENT/,
    ],
    [
      'a bad date',
      `[{"publicKeyFile":${JSON.stringify(oldPem)},"notAfter":"June"}]`,
      /entry 0: notAfter is not a date-time/,
    ],
    [
      'a period that ends before it starts',
      `[{"publicKeyFile":${JSON.stringify(oldPem)},"notBefore":"2026-07-01T00:00:00Z","notAfter":"2026-06-01T00:00:00Z"}]`,
      /notBefore is not before notAfter/,
    ],
  ])('refuses %s, naming the file and the entry', (_name, text, message) => {
    const file = write(`bad-${Math.random()}.json`, text);
    expect(() => loadVerificationKeys(current, file)).toThrow(KeySetError);
    expect(() => loadVerificationKeys(current, file)).toThrow(message);
    expect(() => loadVerificationKeys(current, file)).toThrow(`AIRLOCK_PREVIOUS_KEYS_FILE ${file}`);
  });

  it('refuses a private key: a previous key is only ever needed as a public key', () => {
    const priv = write('old-private.pem', old.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const file = write(
      'with-private.json',
      JSON.stringify([{ publicKeyFile: priv, notAfter: '2026-06-01T00:00:00Z' }]),
    );
    expect(() => loadVerificationKeys(current, file)).toThrow(/holds a private key/);
  });

  it('refuses the current key listed as a previous one, and a key listed twice', () => {
    const currentPem = write('current.pem', current.publicKeyPem);
    const same = write(
      'same.json',
      JSON.stringify([{ publicKeyFile: currentPem, notAfter: '2026-06-01T00:00:00Z' }]),
    );
    expect(() => loadVerificationKeys(current, same)).toThrow(/is the current signing key/);
    const twice = write(
      'twice.json',
      JSON.stringify([
        { publicKeyFile: oldPem, notAfter: '2026-06-01T00:00:00Z' },
        { publicKeyFile: oldPem, notAfter: '2026-07-01T00:00:00Z' },
      ]),
    );
    expect(() => loadVerificationKeys(current, twice)).toThrow(/listed twice/);
  });
});
