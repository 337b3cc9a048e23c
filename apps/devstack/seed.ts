// What a development deployment starts with, wherever it runs (scripts/start.sh on one machine, or
// docker-compose.dev.yml): a signed sample image in the staging registry and a `production`
// environment that promotes it, created through the API with four eyes as an admin would.
import { RegistryClient } from '../../libs/oci';
import { releaseKey, seedSignedImage } from './sample-image';

export const REGISTRY_SERVICE = 'airlock-registry';
export const PROMOTER = { clientId: 'airlock-promoter', secret: 'airlock-promoter-secret' };

/** A client-credentials token from a development issuer (plain fetch: dev tooling only). */
export async function devToken(
  issuer: string,
  client: string,
  secret: string,
  params: Record<string, string>,
): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  if (!res.ok) throw new Error(`token for ${client}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export interface SeedOptions {
  apiUrl: string;
  /** The people issuer: admins' tokens, and the registries' token service. */
  peopleIssuer: string;
  /** `host:port` of the registries as Airlock (and the seeder) reach them. */
  stagingHost: string;
  prodHost: string;
  /** Where the release signing key is kept (created on first use). */
  releaseKeyFile: string;
}

export interface Seeded {
  sampleDigest: string;
}

/** Pushes and signs the sample image, then creates `production` unless it exists. Idempotent. */
export async function seedDevelopment(o: SeedOptions): Promise<Seeded> {
  const key = releaseKey(o.releaseKeyFile);
  const seeder = new RegistryClient({
    host: o.stagingHost,
    insecure: true,
    credentials: {
      tokenSupplier: (scope) =>
        devToken(o.peopleIssuer, PROMOTER.clientId, PROMOTER.secret, { resource: REGISTRY_SERVICE, scope }),
    },
  });
  const sampleDigest = await seedSignedImage(seeder, o.stagingHost, 'acme/app', '1.0.0', key).finally(() =>
    seeder.close(),
  );

  // The `production` environment: signed images from staging's acme/*, two sign-offs, copied to
  // prod/<repository> on the production registry with tokens from the promoter's credentials.
  const api = async (who: string, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${o.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await devToken(o.peopleIssuer, who, `${who}-secret`, { resource: 'airlock' })}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  if ((await api('erin', 'GET', '/v1/environments/production')).status === 404) {
    const credentials = {
      issuer: o.peopleIssuer,
      clientId: PROMOTER.clientId,
      clientSecretName: PROMOTER.clientId,
      services: [REGISTRY_SERVICE],
    };
    // Four eyes on trust: erin proposes the environment, frank approves (and so applies) it.
    const proposed = await api('erin', 'POST', '/v1/environments', {
      name: 'production',
      description: 'development: staging registry → production registry',
      sources: [{ registry: o.stagingHost, repositories: ['acme/*'], insecure: true, credentials }],
      target: { registry: o.prodHost, repository: 'prod/{repository}', insecure: true, credentials },
    });
    const change = (await proposed.json()) as { id: string };
    if (proposed.status !== 202) throw new Error(`production: ${proposed.status} ${JSON.stringify(change)}`);
    const applied = await api('frank', 'POST', `/v1/changes/${change.id}/approve`);
    if (applied.status !== 200)
      throw new Error(`production: approve ${applied.status} ${await applied.text()}`);
    const version = (await (
      await api('erin', 'POST', '/v1/environments/production/policies', {
        comment: 'two sign-offs, signed by the release key, no secrets in the layers',
        document: {
          approvals: {
            rules: [{ name: 'release', required: 2, groups: ['release-managers', 'security'] }],
            expiresAfter: '24h',
            pendingTimeout: '72h',
          },
          signatures: { keys: [{ name: 'release', publicKey: key.publicPem }] },
          scans: { secrets: {} },
        },
      })
    ).json()) as { version: number };
    await api('frank', 'POST', `/v1/environments/production/policies/${version.version}/activate`);
  }
  return { sampleDigest };
}
