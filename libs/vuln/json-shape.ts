/** Deeper than any real OSV document; deep enough nesting makes JSON.stringify throw. */
export const MAX_JSON_DEPTH = 64;

/**
 * What Postgres and the serialiser cannot take, found without recursion: nesting over
 * MAX_JSON_DEPTH, and NUL characters (text and jsonb refuse them) in any string or key.
 */
export function jsonShapeProblem(value: unknown): string | null {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'a string holds a NUL character';
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
      if (Array.isArray(v)) for (const item of v) stack.push([item, depth + 1]);
      else {
        for (const [k, item] of Object.entries(v)) {
          if (k.includes('\u0000')) return 'a key holds a NUL character';
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return null;
}
