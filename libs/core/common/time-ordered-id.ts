import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74 random
 * bits. Rows keyed by it are inserted in time order, so their primary key and the indexes that
 * lead with it (history, outbox job ids) grow at one end: a new row touches the index pages the
 * previous ones did, instead of a random page of a large index (which, the first time after each
 * checkpoint, costs a full page image in the WAL). Still unguessable; the time it carries is the
 * row's creation time, which the API shows anyway.
 */
export function timeOrderedUuid(now: number = Date.now()): string {
  // A version 4 UUID (from Node's batched entropy) with its first 48 bits replaced by the time and
  // its version nibble by 7: its variant bits are already RFC 9562's, 74 random bits stay.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
