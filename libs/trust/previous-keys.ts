// Airlock's key set at start: the current signing key plus the earlier ones that
// AIRLOCK_PREVIOUS_KEYS_FILE lists, so that what they signed still verifies after a rotation.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  KeySetError,
  parseInstant,
  parseP256PublicKey,
  type VerificationKey,
  verificationKey,
  VerificationKeys,
} from '../domain/signing-key-set';
import { type SigningKey } from './signing-key';

const FIELDS = new Set(['publicKeyFile', 'notBefore', 'notAfter']);

type ReadText = (path: string) => string;
const readText: ReadText = (path) => readFileSync(path, 'utf8');

/**
 * One entry of the previous-keys file: `{"publicKeyFile": "...", "notBefore": "...", "notAfter": "..."}`.
 * `notAfter` (when the key stopped signing) is required, `notBefore` optional; only the public key
 * is read, and a file holding a private key is refused (a retired key's private part should be gone).
 */
function previousKey(entry: unknown, where: string, baseDir: string, read: ReadText): VerificationKey {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new KeySetError(`${where} is not an object`);
  }
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    throw new KeySetError(`${where}: unknown field ${unknown[0]} (allowed: ${[...FIELDS].join(', ')})`);
  }
  if (typeof e.publicKeyFile !== 'string' || e.publicKeyFile === '') {
    throw new KeySetError(`${where}: publicKeyFile is missing`);
  }
  if (e.notAfter === undefined)
    throw new KeySetError(`${where}: notAfter (when the key stopped signing) is missing`);
  const path = isAbsolute(e.publicKeyFile) ? e.publicKeyFile : resolve(baseDir, e.publicKeyFile);
  let pem: string;
  try {
    pem = read(path);
  } catch (err) {
    throw new KeySetError(
      `${where}: cannot read publicKeyFile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return verificationKey(parseP256PublicKey(pem, `${where}: publicKeyFile ${path}`), {
    notBefore: e.notBefore === undefined ? null : parseInstant(e.notBefore, `${where}: notBefore`),
    notAfter: parseInstant(e.notAfter, `${where}: notAfter`),
  });
}

/**
 * The key set verifiers use: the current key (no period: it signs now) and each previous key.
 * Throws an Error naming AIRLOCK_PREVIOUS_KEYS_FILE and the entry at fault, so a bad file stops
 * the process at start rather than failing verifications later.
 */
export function loadVerificationKeys(
  current: SigningKey,
  previousKeysFile: string | undefined,
  read: ReadText = readText,
): VerificationKeys {
  const keys = [verificationKey(current.publicKey, { current: true })];
  if (previousKeysFile === undefined || previousKeysFile === '') return VerificationKeys.of(keys);
  const where = `AIRLOCK_PREVIOUS_KEYS_FILE ${previousKeysFile}`;
  try {
    let text: string;
    try {
      text = read(previousKeysFile);
    } catch (err) {
      throw new KeySetError(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch {
      throw new KeySetError('not JSON');
    }
    if (!Array.isArray(entries)) {
      throw new KeySetError('not a JSON array of {publicKeyFile, notBefore, notAfter}');
    }
    const baseDir = dirname(resolve(previousKeysFile));
    entries.forEach((entry, i) => {
      const key = previousKey(entry, `entry ${i}`, baseDir, read);
      if (key.keyId === keys[0].keyId) {
        throw new KeySetError(`entry ${i} is the current signing key (${key.keyId}); list only earlier keys`);
      }
      keys.push(key);
    });
    return VerificationKeys.of(keys);
  } catch (e) {
    if (e instanceof KeySetError) throw new KeySetError(`${where}: ${e.message}`);
    throw e;
  }
}
