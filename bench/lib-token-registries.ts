// What the copy benchmarks share: a development OIDC issuer whose tokens token-auth registries
// accept, and the credential profile (its secret in a secrets folder) the promoter mints them with.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CredentialProfile } from '../libs/domain';
import { getToken, type OidcProviderHandle, startOidcProvider } from '../test/support/oidc';
import { type RegistryTokenAuth } from '../test/support/registry';

export const SERVICE = 'airlock-registry';
export const CLIENT_ID = 'airlock-promoter';
export const CLIENT_SECRET = 'airlock-promoter-secret';

export interface TokenRegistrySetup {
  oidc: OidcProviderHandle;
  /** For startRegistry({ auth }). */
  auth: RegistryTokenAuth;
  /** The promoter's credentials for those registries. */
  profile: CredentialProfile;
  /** Holds the profile's client secret (AIRLOCK_SECRETS_DIR). */
  secretsDir: string;
  /** A registry token for `scope`, as the promoter would obtain it. */
  token(scope: string): Promise<string>;
}

/** Starts the issuer under `dir` (stopped by `stops`) and writes the client secret. */
export async function tokenRegistrySetup(
  dir: string,
  stops: Array<() => Promise<unknown>>,
): Promise<TokenRegistrySetup> {
  const certPath = join(dir, 'registry-token-issuer.pem');
  const oidc = await startOidcProvider({ registryCertOut: certPath });
  stops.push(() => oidc.stop());
  const secretsDir = join(dir, 'secrets');
  await mkdir(secretsDir);
  await writeFile(join(secretsDir, CLIENT_ID), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  return {
    oidc,
    auth: {
      realm: `${oidc.issuer}/token`,
      service: SERVICE,
      issuer: oidc.issuer,
      rootCertBundlePath: certPath,
    },
    profile: { issuer: oidc.issuer, clientId: CLIENT_ID, clientSecretName: CLIENT_ID, services: [SERVICE] },
    secretsDir,
    token: (scope) =>
      getToken(oidc.issuer, CLIENT_ID, { clientSecret: CLIENT_SECRET, resource: SERVICE, scope }),
  };
}
