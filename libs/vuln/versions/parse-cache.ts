/**
 * A bounded memo for parsed versions. Matching one SBOM against advisories compares the same few
 * version strings against many range events, so parsing once per string pays; the cache is simply
 * emptied when full because a scan's working set is small and an LRU would cost more than it saves.
 */
export function cachedParser<T>(parse: (version: string) => T, limit = 4096): (version: string) => T {
  const cache = new Map<string, T>();
  return (version) => {
    const hit = cache.get(version);
    if (hit !== undefined) return hit;
    const parsed = parse(version);
    if (cache.size >= limit) cache.clear();
    cache.set(version, parsed);
    return parsed;
  };
}
