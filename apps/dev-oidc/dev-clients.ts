// Clients of the development issuer. Each client stands for one caller of Airlock in tests and local
// runs: a CI workflow (GitHub Actions-style claims), a person (groups, email, name) or a service (the
// promoter, which asks for registry tokens). Everyone authenticates with client_credentials, so a
// "human" here is just a client whose token looks like a person's.

export type DevClientKind = 'ci' | 'human' | 'service';

export interface DevClient {
  client_id: string;
  client_secret: string;
  kind: DevClientKind;
  /** Copied into every access token; `sub` here replaces the default `sub` (the client_id). */
  claims: Record<string, unknown>;
  /** Resource indicators (token audiences) this client may ask for; anything else is invalid_target. */
  allowedResources: string[];
  /** Scope patterns this client may be granted (`*` matches anything); absent means any scope. */
  scopes?: string[];
}

const KINDS: readonly DevClientKind[] = ['ci', 'human', 'service'];

function ciClient(
  id: string,
  repository: string,
  actor: string,
  sha: string,
  runId: string,
  workflow = 'release',
  ref = 'refs/heads/main',
): DevClient {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    kind: 'ci',
    claims: {
      // GitHub's OIDC subject format for a branch build.
      sub: `repo:${repository}:ref:${ref}`,
      repository,
      repository_owner: repository.split('/')[0],
      ref,
      ref_type: 'branch',
      sha,
      workflow,
      job_workflow_ref: `${repository}/.github/workflows/${workflow}.yml@${ref}`,
      actor,
      event_name: 'push',
      run_id: runId,
      run_attempt: '1',
    },
    allowedResources: ['airlock'],
  };
}

function humanClient(id: string, groups: string[]): DevClient {
  return {
    client_id: id,
    client_secret: `${id}-secret`,
    kind: 'human',
    claims: { groups, email: `${id}@example.com`, name: id.charAt(0).toUpperCase() + id.slice(1) },
    allowedResources: ['airlock'],
  };
}

/** Used when no clients file is given. Every secret is `<client_id>-secret`. */
export const DEFAULT_CLIENTS: readonly DevClient[] = [
  ciClient('ci-app', 'acme/app', 'carol', '0123456789abcdef0123456789abcdef01234567', '1001'),
  ciClient('ci-other', 'acme/other', 'dave', 'fedcba9876543210fedcba9876543210fedcba98', '2001'),
  // A workload of another team's repository (team/app), for repository scoping.
  ciClient('ci-team', 'team/app', 'dave', '00112233445566778899aabbccddeeff00112233', '3001'),
  humanClient('alice', ['release-managers']),
  humanClient('bob', ['release-managers', 'security']),
  humanClient('carol', ['developers']),
  humanClient('dave', []),
  humanClient('erin', ['platform-admins']),
  humanClient('frank', ['platform-admins']),
  humanClient('grace', ['auditors']),
  // People whose roles tests bind to one environment only (no default binding matches their groups).
  humanClient('ivan', ['staging-release']),
  humanClient('judy', ['staging-admins']),
  {
    client_id: 'airlock-promoter',
    client_secret: 'airlock-promoter-secret',
    kind: 'service',
    claims: {},
    // The registry's `service` name from its token auth config; the token's `aud` must equal it.
    allowedResources: ['airlock-registry'],
  },
];

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Validates a clients file: a JSON array of clients, or `{ "clients": [...] }`. Fails loudly on the
 * first mistake, since a silently ignored client only shows up later as a confusing 401.
 */
export function parseClients(json: unknown, source: string): DevClient[] {
  const list: unknown =
    typeof json === 'object' && json !== null && !Array.isArray(json) && 'clients' in json
      ? json.clients
      : json;
  if (!Array.isArray(list)) {
    throw new Error(`${source}: expected an array of clients or {"clients": [...]}`);
  }
  const seen = new Set<string>();
  return list.map((entry: unknown, index): DevClient => {
    const where = `${source}: client #${index}`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where} is not an object`);
    const c = entry as Partial<Record<keyof DevClient, unknown>>;
    if (typeof c.client_id !== 'string' || c.client_id === '') throw new Error(`${where}: client_id missing`);
    if (seen.has(c.client_id)) throw new Error(`${where}: duplicate client_id ${c.client_id}`);
    seen.add(c.client_id);
    if (typeof c.client_secret !== 'string' || c.client_secret === '') {
      throw new Error(`${where}: client_secret missing`);
    }
    if (!KINDS.includes(c.kind as DevClientKind))
      throw new Error(`${where}: kind must be one of ${KINDS.join(', ')}`);
    const claims = c.claims ?? {};
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw new Error(`${where}: claims must be an object`);
    }
    if (!isStringArray(c.allowedResources) || c.allowedResources.length === 0) {
      throw new Error(`${where}: allowedResources must be a non-empty array of strings`);
    }
    if (c.scopes !== undefined && !isStringArray(c.scopes))
      throw new Error(`${where}: scopes must be strings`);
    return {
      client_id: c.client_id,
      client_secret: c.client_secret,
      kind: c.kind as DevClientKind,
      claims: claims as Record<string, unknown>,
      allowedResources: c.allowedResources,
      ...(c.scopes !== undefined ? { scopes: c.scopes } : {}),
    };
  });
}

/** Whether `scope` matches one of the client's scope patterns (`*` matches any run of characters). */
export function scopeAllowed(client: DevClient, scope: string): boolean {
  if (client.scopes === undefined) return true;
  return client.scopes.some((pattern) => {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${source}$`).test(scope);
  });
}
