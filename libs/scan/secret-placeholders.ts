// Values that look like credentials but are not: placeholders in documentation and templates
// (`ghp_xxxx…`, `AKIAXXXXXXXXXXXXXXXX`, `xoxb-12345-…`, `<your-token>`, `${TOKEN}`), and tokens whose
// format carries a checksum that does not add up. One place, applied to every rule's findings.
import { crc32 } from 'node:zlib';

/** Words and shapes that mark a value as an example, wherever they appear in a short value. */
const PLACEHOLDER_WORDS =
  /x{4}|X{4}|\*{3}|12345|abcdef|example|changeme|change_me|placeholder|your[_-]|redacted|dummy|sample|replace[_-]?me|insert[_-]|fake|foobar/i;
/** Templates and references: the value is not here, it is filled in elsewhere. */
const TEMPLATE = /<[A-Za-z][\w .-]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Za-z_]+%|#\{[^}]*\}/;
/**
 * Long values (private keys, JWTs, certificates) are only checked for templates and long runs of
 * x: in a thousand random base64 characters a four-letter word turns up too often to mean anything.
 */
const LONG = 100;
const LONG_PLACEHOLDER = /x{8}|X{8}|1234567890|0{16}/;

/** Whether `value` is a placeholder, a template or an obvious example rather than a credential. */
export function isPlaceholder(value: string): boolean {
  if (TEMPLATE.test(value)) return true;
  if (value.length > LONG) return LONG_PLACEHOLDER.test(value);
  if (PLACEHOLDER_WORDS.test(value)) return true;
  // `aaaaaaaa`, `00000000`, `abababab`: three distinct characters or fewer.
  return value.length >= 8 && new Set(value).size <= 3;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` in base 62, left-padded with zeros to `width`. */
export function base62(n: number, width: number): string {
  let s = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) s = BASE62[v % 62] + s;
  return s.padStart(width, '0');
}

/**
 * GitHub's tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm's (`npm_`) end in six base62
 * characters: the CRC32 of the 30 random characters before them
 * (github.blog, "Behind GitHub's new authentication token formats", 2021).
 */
const CHECKSUMMED = /^(?:gh[pousr]_|npm_)([A-Za-z0-9]{30})([A-Za-z0-9]{6})$/;

/** Whether `token` has the shape of a checksummed token and the checksum holds. */
export function tokenChecksumHolds(token: string): boolean {
  const m = CHECKSUMMED.exec(token);
  return m !== null && base62(crc32(m[1]), 6) === m[2];
}

/** Whether `token` has a checksummed shape whose checksum fails: a made-up token, not a leak. */
export function failsTokenChecksum(token: string): boolean {
  return CHECKSUMMED.test(token) && !tokenChecksumHolds(token);
}

/**
 * Shapes a rule's pattern allows that no real token has: a Slack-looking word (`xoxb-logo-512`
 * in an image URL) has no digits and is short; Slack's tokens have both.
 */
export function implausibleToken(secret: string): boolean {
  if (/^xox[a-z]-/.test(secret)) return secret.length < 24 || !/[0-9]/.test(secret);
  return false;
}
