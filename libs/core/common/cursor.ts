import { DomainError, ErrorCode } from '../../domain';

/**
 * Opaque pagination cursors: base64url JSON of the last row's sort key. Callers must not build
 * them; a cursor that does not decode to the expected shape is a validation error.
 */
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<K extends string>(
  cursor: string | undefined,
  fields: readonly K[],
): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  const bad = (): never => {
    throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
      field: 'cursor',
    });
  };
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad();
  }
  if (typeof parsed !== 'object' || parsed === null) return bad();
  const obj = parsed as Record<string, unknown>;
  for (const f of fields) if (typeof obj[f] !== 'string' || obj[f].length > 256) bad();
  return obj as Record<K, string>;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Fetch limit+1 rows; this trims the extra one and makes the cursor from the last kept row. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  view: (r: R) => T,
  key: (r: R) => Record<string, string>,
): Page<T> {
  const items = rows.slice(0, limit);
  const more = rows.length > limit;
  return {
    items: items.map(view),
    nextCursor: more && items.length ? encodeCursor(key(items[items.length - 1])) : null,
  };
}
