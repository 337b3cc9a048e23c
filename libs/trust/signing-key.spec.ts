import { generateKeyPairSync } from 'node:crypto';
import { SigningKey } from './signing-key';

const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

describe('SigningKey.deriveKey', () => {
  it('gives 32 bytes per purpose, the same each time for one key and different across keys', () => {
    const text = pem();
    const a = SigningKey.fromPem(text);
    expect(a.deriveKey('secret fingerprints')).toHaveLength(32);
    expect(a.deriveKey('secret fingerprints')).toEqual(
      SigningKey.fromPem(text).deriveKey('secret fingerprints'),
    );
    expect(a.deriveKey('secret fingerprints')).not.toEqual(a.deriveKey('something else'));
    expect(a.deriveKey('secret fingerprints')).not.toEqual(
      SigningKey.fromPem(pem()).deriveKey('secret fingerprints'),
    );
  });
});
