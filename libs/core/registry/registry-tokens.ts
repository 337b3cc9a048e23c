import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { AirlockConfig } from '../../config';
import { type CredentialProfile, DomainError } from '../../domain';
import { RegistryError, type RegistryTokenSupplier } from '../../oci';
import { IdentityService } from '../identity/identity.service';
import { OidcDiscovery } from '../identity/oidc-discovery';
import { HostGuard } from '../outbound/host-guard';
import { SecretStore } from '../secrets/secret-store';

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
 * read from the SecretStore when needed.
 *
 * Before a secret leaves, the issuer is checked again (still an allowed host, still a trusted
 * issuer: the operator or an admin may have changed either since the environment was defined), and
 * the token endpoint its discovery document names must be on the issuer's own origin or an allowed
 * host, so a discovery document cannot send the secret elsewhere.
 */
@Injectable()
export class RegistryTokens {
  constructor(
    private readonly config: AirlockConfig,
    private readonly hosts: HostGuard,
    private readonly identity: IdentityService,
    private readonly secrets: SecretStore,
    private readonly discovery: OidcDiscovery,
  ) {}

  supplierFor(profile: CredentialProfile): RegistryTokenSupplier {
    return async (scope, challenge) => {
      const service = challenge.service;
      const who = `client ${profile.clientId} at ${profile.issuer}`;
      if (!service || !profile.services.includes(service)) {
        throw refused(
          `the registry asked for a token for service "${service ?? ''}", which the credential profile (${who}) does not list`,
        );
      }
      await this.asRefusal(this.hosts.checkUrl('credential issuer', profile.issuer));
      if (!(await this.identity.trustedIssuer(profile.issuer))) {
        throw refused(`the credential profile's issuer ${profile.issuer} is no longer a trusted issuer`);
      }
      const metadata = await this.metadata(profile.issuer);
      const endpoint = metadata.token_endpoint;
      if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
        throw refused(`the discovery document of ${profile.issuer} names no usable token endpoint`);
      }
      if (new URL(endpoint).origin !== new URL(profile.issuer).origin) {
        await this.asRefusal(this.hosts.checkUrl(`token endpoint of ${profile.issuer}`, endpoint));
      }
      const secret = await this.asRefusal(this.secrets.read(profile.clientSecretName));
      const configuration = new oidc.Configuration(metadata, profile.clientId, secret);
      if (this.insecure(profile.issuer)) oidc.allowInsecureRequests(configuration);
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
          `${profile.issuer} refused a token for client ${profile.clientId} (service ${service}, scope ${scope}): ${code}`,
        );
      }
    };
  }

  /** A refusal of the host guard or the secret store, as a final registry error (its message names no secret). */
  private async asRefusal<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (e instanceof DomainError) throw refused(e.message);
      throw e;
    }
  }

  /** Plain http to an issuer only where the operator allows it (development, tests). */
  private insecure(issuer: string): boolean {
    return this.config.privateHostsAllowed && issuer.startsWith('http://');
  }

  /** The issuer's discovery document (cached for the process, shared with token verification). */
  private async metadata(issuer: string): Promise<oidc.ServerMetadata> {
    try {
      return await this.discovery.metadata(issuer, this.insecure(issuer));
    } catch {
      throw new RegistryError(
        'unavailable',
        `the credential profile's issuer ${issuer} could not be discovered`,
      );
    }
  }
}
