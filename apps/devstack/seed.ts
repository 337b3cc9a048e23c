// What a development deployment starts with, wherever it runs (scripts/start.sh on one machine, or
// docker-compose.dev.yml): a signed sample image in the staging registry and the environments
// dev → staging → production, created through the API with four eyes as an admin would.
import { RegistryClient } from '../../libs/oci';
import { type DevApi, ensureDevChain } from './environments';
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

/** Pushes and signs the sample image, then creates the chain of environments. Idempotent. */
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

  // The chain dev → staging → production (environments.ts), created over the API with four eyes.
  const api: DevApi = async (who, method, path, body) =>
    fetch(`${o.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await devToken(o.peopleIssuer, who, `${who}-secret`, { resource: 'airlock' })}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  await ensureDevChain(api, {
    stagingHost: o.stagingHost,
    prodHost: o.prodHost,
    credentials: {
      issuer: o.peopleIssuer,
      clientId: PROMOTER.clientId,
      clientSecretName: PROMOTER.clientId,
      services: [REGISTRY_SERVICE],
    },
    releasePublicKey: key.publicPem,
  });
  return { sampleDigest };
}
