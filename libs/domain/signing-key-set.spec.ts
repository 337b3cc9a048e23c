import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { KeySetError, signingKeyId, spkiSha256, verificationKey, VerificationKeys } from './signing-key-set';

// A P-256 public key and the fingerprint `ssh-keygen -i -m PKCS8 -f pub.pem | ssh-keygen -lf -`
// printed for it: the key id must be exactly what DSSE tooling derives (go-securesystemslib's
// SHA256KeyID, which cosign's verify-attestation compares a non-empty keyid with).
const REFERENCE_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEo1Uyau4cokY6B3J2JaA1MTSxkw/Z
txkmIwrlDWv6Yl5rQXu7YGU+7s3vBLdhUSiSAMXRn9fMrKrE3ppFa/fuFw==
-----END PUBLIC KEY-----
`;
const REFERENCE_ID = 'SHA256:n9HvPqK2Kq1kjS53NTVU6T7KaHmZTb6ae4WvHRksbQM';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (k = p256()) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('signingKeyId', () => {
  it('is the SSH SHA256 fingerprint ssh-keygen prints for the key', () => {
    expect(signingKeyId(createPublicKey(REFERENCE_PEM))).toBe(REFERENCE_ID);
  });

  it('differs from the hex SPKI digest older records carry, which stays available', () => {
    const key = createPublicKey(REFERENCE_PEM);
    expect(spkiSha256(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(verificationKey(key).spkiSha256).toBe(spkiSha256(key));
  });
});

describe(VerificationKeys.name, () => {
  const a = p256();
  const b = p256();
  const keyA = verificationKey(a.publicKey, {
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2026-06-01T00:00:00Z'),
  });
  const keyB = verificationKey(b.publicKey, { current: true });
  const set = VerificationKeys.of([keyB, keyA]);

  it.each([
    ['the current key, at any date', keyB.keyId, '2020-01-01T00:00:00Z', keyB.keyId],
    ['a previous key inside its period', keyA.keyId, '2026-03-01T00:00:00Z', keyA.keyId],
    ['a previous key at the last instant of its period', keyA.keyId, '2026-06-01T00:00:00.000Z', keyA.keyId],
    ['a key by the hex SPKI id of older records', keyA.spkiSha256, '2026-03-01T00:00:00Z', keyA.keyId],
  ])('selects %s', (_name, keyId, at, expected) => {
    const s = set.select(keyId, at);
    expect(s.ok && s.key.keyId).toBe(expected);
  });

  it.each([
    ['after its notAfter', '2026-06-01T00:00:00.001Z'],
    ['before its notBefore', '2025-12-31T23:59:59Z'],
    ['at a date that is not one', 'yesterday'],
  ])('refuses a previous key %s, naming the key and its period', (_name, at) => {
    const s = set.select(keyA.keyId, at);
    expect(s).toMatchObject({ ok: false, problem: 'key_not_valid_at' });
    expect(!s.ok && s.detail).toContain(keyA.keyId);
  });

  it('refuses a key id not in the set, naming it', () => {
    const other = signingKeyId(p256().publicKey);
    const s = set.select(other, '2026-03-01T00:00:00Z');
    expect(s).toMatchObject({ ok: false, problem: 'key_unknown' });
    expect(!s.ok && s.detail).toContain(other);
    expect(set.select('', null)).toMatchObject({ ok: false, problem: 'key_unknown' });
  });

  it('lists the keys valid at a date (for records that name none)', () => {
    expect(set.validKeys('2026-03-01T00:00:00Z').map((k) => k.keyId)).toEqual([keyB.keyId, keyA.keyId]);
    expect(set.validKeys('2027-01-01T00:00:00Z').map((k) => k.keyId)).toEqual([keyB.keyId]);
  });

  it('refuses a set with a key twice, a period that ends before it starts, or two current keys', () => {
    expect(() => VerificationKeys.of([keyA, keyA])).toThrow(/listed twice/);
    const backwards = verificationKey(a.publicKey, {
      notBefore: new Date('2026-02-01T00:00:00Z'),
      notAfter: new Date('2026-01-01T00:00:00Z'),
    });
    expect(() => VerificationKeys.of([backwards])).toThrow(/notBefore is not before notAfter/);
    const current = verificationKey(a.publicKey, { current: true });
    expect(() => VerificationKeys.of([keyB, current])).toThrow(/more than one key is current/);
  });

  describe('fromPublished (the JSON of GET /v1/keys)', () => {
    it('round-trips what published() gives', () => {
      const again = VerificationKeys.fromPublished(JSON.parse(JSON.stringify(set.published())));
      expect(again.published()).toEqual(set.published());
      expect(again.current?.keyId).toBe(keyB.keyId);
    });

    it.each<[string, unknown, RegExp]>([
      ['not a key set', [], /not a key set/],
      ['no keys', { keys: [] }, /lists no keys/],
      ['a key without publicKey', { keys: [{ keyId: 'x' }] }, /key 0 has no publicKey/],
      [
        'a private key',
        { keys: [{ publicKey: a.privateKey.export({ type: 'pkcs8', format: 'pem' }) }] },
        /private key/,
      ],
      ['not PEM', { keys: [{ publicKey: 'hello' }] }, /not a PEM public key/],
      [
        'another curve',
        {
          keys: [
            {
              publicKey: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({
                type: 'spki',
                format: 'pem',
              }),
            },
          ],
        },
        /not an EC P-256 public key/,
      ],
      [
        'a keyId that is not its key',
        { keys: [{ publicKey: pem(a), keyId: keyB.keyId }] },
        /is not the id of its key/,
      ],
      ['a bad date', { keys: [{ publicKey: pem(a), notAfter: '1 June' }] }, /notAfter is not a date-time/],
      ['another algorithm', { keys: [{ publicKey: pem(a), algorithm: 'RS256' }] }, /"RS256" is not ES256/],
    ])('refuses %s with a KeySetError', (_name, value, message) => {
      expect(() => VerificationKeys.fromPublished(value, 'keys.json')).toThrow(KeySetError);
      expect(() => VerificationKeys.fromPublished(value, 'keys.json')).toThrow(message);
    });
  });

  it('single(): one PEM key with no period', () => {
    const one = VerificationKeys.single(pem(a));
    expect(one.select(keyA.keyId, '1999-01-01T00:00:00Z').ok).toBe(true);
  });
});
