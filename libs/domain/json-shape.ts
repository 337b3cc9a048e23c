/** Deeper than any real OSV document; deep enough nesting makes JSON.stringify throw. */
export const MAX_JSON_DEPTH = 64;

// Documents from outside (advisories, SBOMs) end up in jsonb and text columns and are
// serialised again: one walk says whether they can be.

/**
 * What Postgres and the serialiser cannot take, found without recursion: nesting over
 * `maxDepth`, and NUL characters (text and jsonb refuse them) in any string or key.
 */
export function jsonShapeProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'holds a NUL character in a string';
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels`;
      if (Array.isArray(v)) for (const item of v) stack.push([item, depth + 1]);
      else {
        for (const [k, item] of Object.entries(v)) {
          if (k.includes('\u0000')) return 'holds a NUL character in a key';
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return null;
}
