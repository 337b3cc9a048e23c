import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** RFC 8785 canonical JSON, so the same document always hashes the same. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalised');
  return text;
}

/** String.prototype.isWellFormed (ES2024; Node 20+), not yet in the TypeScript lib we target. */
export const isWellFormed = (value: string): boolean =>
  (value as string & { isWellFormed(): boolean }).isWellFormed();

function jcsString(value: string): string {
  if (!isWellFormed(value)) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(value);
}

/**
 * RFC 8785 canonical JSON of a value that came out of JSON.parse (or a database's JSON column):
 * plain objects, arrays, strings, finite numbers, booleans and null only. The same output as
 * canonicalJson for those, without the general library's bookkeeping (toJSON, cycles, boxed values),
 * which made up most of the cost of hashing an audit chain. Anything else goes to canonicalJson.
 */
export function canonicalJsonOfParsed(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jcsString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error('NaN and Infinity are not allowed');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const element: unknown = value[i];
          out += element === undefined ? 'null' : canonicalJsonOfParsed(element);
        }
        return `${out}]`;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype || 'toJSON' in value) return canonicalJson(value);
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, the order RFC 8785 requires.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        out += `${first ? '' : ','}${jcsString(key)}:${canonicalJsonOfParsed(member)}`;
        first = false;
      }
      return `${out}}`;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return canonicalJson(value);
  }
}

/** One-shot hashing: a third of the cost of createHash().update().digest() for short inputs. */
export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
