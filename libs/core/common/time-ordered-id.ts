import { randomBytes } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74 random
 * bits. Rows keyed by it are inserted in time order, so their primary key and the indexes that
 * lead with it (history, outbox job ids) grow at one end: a new row touches the index pages the
 * previous ones did, instead of a random page of a large index (which, the first time after each
 * checkpoint, costs a full page image in the WAL). Still unguessable; the time it carries is the
 * row's creation time, which the API shows anyway.
 */
export function timeOrderedUuid(now: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
