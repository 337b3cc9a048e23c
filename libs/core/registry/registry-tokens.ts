import { Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import * as oidc from 'openid-client';
import { AirlockConfig } from '../../config';
import { type CredentialProfile } from '../../domain';
import { RegistryError, type RegistryTokenSupplier } from '../../oci';

const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/**
 * A token request refused: final, a person has to fix the profile. The message names the profile
 * and the OAuth error, never a secret. A RegistryError, so the registry client passes it on as is.
 */
const refused = (message: string): RegistryError =>
  new RegistryError('unauthorized', message, { permanent: true });

/**
 * Short-lived registry tokens from an environment's credential profile: an OIDC client-credentials
 * grant for exactly the scope a registry challenge names, with the registry's `service` as the
 * audience. Tokens are handed to the registry client and kept nowhere else; the client secret is
 * read from its file when needed.
 */
@Injectable()
export class RegistryTokens {
  private readonly servers = new Map<string, { at: number; metadata: Promise<oidc.ServerMetadata> }>();

  constructor(private readonly config: AirlockConfig) {}

  supplierFor(profile: CredentialProfile): RegistryTokenSupplier {
    return async (scope, challenge) => {
      const service = challenge.service;
      if (!service || !profile.services.includes(service)) {
        throw refused(
          `the registry asked for a token for service "${service ?? ''}", which the credential profile (client ${profile.clientId} at ${profile.issuer}) does not list`,
        );
      }
      let secret: string;
      try {
        secret = (await readFile(profile.clientSecretFile, 'utf8')).trim();
      } catch {
        throw refused(`the client secret file of client ${profile.clientId} cannot be read`);
      }
      const insecure = this.config.AUTH_ALLOW_INSECURE_ISSUERS && profile.issuer.startsWith('http://');
      const configuration = new oidc.Configuration(
        await this.metadata(profile.issuer),
        profile.clientId,
        secret,
      );
      if (insecure) oidc.allowInsecureRequests(configuration);
      try {
        const tokens = await oidc.clientCredentialsGrant(configuration, { resource: service, scope });
        return tokens.access_token;
      } catch (e) {
        const code = (e as { error?: unknown }).error;
        // No OAuth error code: the issuer could not be reached, which may pass.
        if (typeof code !== 'string') {
          throw new RegistryError(
            'unavailable',
            `${profile.issuer} could not be reached for a registry token`,
          );
        }
        throw refused(
          `${profile.issuer} refused a token for client ${profile.clientId} (service ${service}, scope ${scope})${typeof code === 'string' ? `: ${code}` : ''}`,
        );
      }
    };
  }

  private metadata(issuer: string): Promise<oidc.ServerMetadata> {
    const hit = this.servers.get(issuer);
    if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.metadata;
    const insecure = this.config.AUTH_ALLOW_INSECURE_ISSUERS && issuer.startsWith('http://');
    const metadata = oidc
      .discovery(new URL(issuer), 'airlock-promoter', undefined, undefined, {
        timeout: 10,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .then((c) => c.serverMetadata())
      .catch(() => {
        this.servers.delete(issuer);
        throw new RegistryError(
          'unavailable',
          `the credential profile's issuer ${issuer} could not be discovered`,
        );
      });
    this.servers.set(issuer, { at: Date.now(), metadata });
    return metadata;
  }
}
