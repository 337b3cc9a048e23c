// The development stack's chain of environments: dev → staging → production, all taking the signed
// sample from the staging registry's acme/*. dev and staging promote into dev/ and staging/ on the
// staging registry, production into prod/ on the production registry. Each step is what an operator
// does over the API: one admin (erin) proposes, another (frank) approves or activates.

/** Calls the API as a development person (a fresh token each call). */
export type DevApi = (who: string, method: string, path: string, body?: unknown) => Promise<Response>;

export interface ChainSetup {
  stagingHost: string;
  prodHost: string;
  credentials: { issuer: string; clientId: string; clientSecretName: string; services: string[] };
  releasePublicKey: string;
}

interface DevEnvironment {
  name: string;
  description: string;
  targetHost: string;
  targetRepository: string;
  upstreams: string[];
  policyComment: string;
  policy: Record<string, unknown>;
}

async function ok(res: Response, what: string): Promise<unknown> {
  const body = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${body}`);
  return body ? JSON.parse(body) : undefined;
}

/** A proposed change (202) approved by the second admin. */
async function fourEyes(api: DevApi, proposal: Response, what: string): Promise<void> {
  const change = (await ok(proposal, what)) as { id: string };
  await ok(await api('frank', 'POST', `/v1/changes/${change.id}/approve`), `${what}: approve`);
}

function chain(s: ChainSetup): DevEnvironment[] {
  const signatures = { keys: [{ name: 'release', publicKey: s.releasePublicKey }] };
  return [
    {
      name: 'dev',
      description: 'development: the first stop, no sign-offs',
      targetHost: s.stagingHost,
      targetRepository: 'dev/{repository}',
      upstreams: [],
      policyComment: 'signed by the release key',
      policy: { approvals: { required: 0 }, signatures },
    },
    {
      name: 'staging',
      description: 'development: what ran in dev, one sign-off',
      targetHost: s.stagingHost,
      targetRepository: 'staging/{repository}',
      upstreams: ['dev'],
      policyComment: 'one sign-off, signed by the release key',
      policy: { approvals: { required: 1 }, signatures },
    },
    {
      name: 'production',
      description: 'development: staging registry → production registry, after staging',
      targetHost: s.prodHost,
      targetRepository: 'prod/{repository}',
      upstreams: ['staging'],
      policyComment:
        'two sign-offs, signed by the release key, no secrets in the layers, a minute in staging',
      policy: {
        approvals: {
          rules: [{ name: 'release', required: 2, groups: ['release-managers', 'security'] }],
          expiresAfter: '24h',
          pendingTimeout: '72h',
        },
        signatures,
        scans: { secrets: {} },
        soak: { duration: '1m' },
      },
    },
  ];
}

/**
 * Creates whatever of the chain is missing: each environment with its active policy, then the
 * upstreams of each (production's too, in a database from before chains existed).
 */
export async function ensureDevChain(api: DevApi, s: ChainSetup): Promise<void> {
  for (const e of chain(s)) {
    if ((await api('erin', 'GET', `/v1/environments/${e.name}`)).status !== 404) continue;
    await fourEyes(
      api,
      await api('erin', 'POST', '/v1/environments', {
        name: e.name,
        description: e.description,
        sources: [
          { registry: s.stagingHost, repositories: ['acme/*'], insecure: true, credentials: s.credentials },
        ],
        target: {
          registry: e.targetHost,
          repository: e.targetRepository,
          insecure: true,
          credentials: s.credentials,
        },
      }),
      e.name,
    );
    const version = (await ok(
      await api('erin', 'POST', `/v1/environments/${e.name}/policies`, {
        comment: e.policyComment,
        document: e.policy,
      }),
      `${e.name}: policy`,
    )) as { version: number };
    await ok(
      await api('frank', 'POST', `/v1/environments/${e.name}/policies/${version.version}/activate`),
      `${e.name}: activate`,
    );
  }
  for (const e of chain(s)) {
    const current = (await ok(await api('erin', 'GET', `/v1/environments/${e.name}`), e.name)) as {
      upstreams?: string[];
    };
    if (e.upstreams.every((u) => current.upstreams?.includes(u))) continue;
    await fourEyes(
      api,
      await api('erin', 'POST', `/v1/environments/${e.name}/upstreams`, { upstreams: e.upstreams }),
      `${e.name}: upstreams`,
    );
  }
}
