// The Docker registry token protocol: scopes like `repository:prod/app:pull,push` are requested, and
// the token's `access` claim lists what was granted:
// [{"type":"repository","name":"prod/app","actions":["pull","push"]}].

export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses `type:name:actions`. The name may itself contain ':' (a `host:port/` prefix), so the type
 * ends at the first colon and the actions start after the last one.
 */
export function parseRegistryScope(scope: string): RegistryAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return undefined;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',');
  if (!/^[a-z0-9]+$/.test(type) || !actions.every((action) => /^(?:[a-z]+|\*)$/.test(action))) {
    return undefined;
  }
  return { type, name, actions };
}

/** Builds the `access` claim, merging the actions of scopes that name the same resource. */
export function accessFromScopes(scopes: Iterable<string>): RegistryAccess[] {
  const byResource = new Map<string, RegistryAccess>();
  for (const scope of scopes) {
    const parsed = parseRegistryScope(scope);
    if (parsed === undefined) continue;
    const key = `${parsed.type}:${parsed.name}`;
    const entry = byResource.get(key);
    if (entry === undefined) {
      byResource.set(key, { ...parsed, actions: [...new Set(parsed.actions)] });
    } else {
      entry.actions = [...new Set([...entry.actions, ...parsed.actions])];
    }
  }
  return [...byResource.values()];
}
