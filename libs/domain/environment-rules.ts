import { type ArtifactReference } from './artifact-reference';
import { matchesRepositoryPattern } from './repository-pattern';

/**
 * A registry an environment accepts artifacts from, which of its repositories, and how to reach
 * it. Airlock contacts a registry only through such a rule: never at an address a caller sent.
 */
export interface SourceRule {
  registry: string;
  repositories: string[];
  /** Plain http instead of https (a registry on loopback or a private network). */
  insecure?: boolean;
  /** Token realms (origins or URL prefixes) the registry may send Airlock to for pull tokens. */
  tokenRealms?: string[];
  /** Hosts the registry may redirect blob downloads to (its storage backend). */
  redirectHosts?: string[];
  /** How Airlock obtains pull tokens for this registry, when it needs any. */
  credentials?: CredentialProfile;
}

/**
 * Where Airlock gets short-lived registry tokens: an OIDC issuer's client-credentials grant, asked
 * for exactly the scopes one copy needs (`repository:prod/app:pull,push`) and the registry's
 * `service` as the audience. The client secret is named, never given as a path: the operator
 * provides it (a file in AIRLOCK_SECRETS_DIR or an environment variable); it is never in the
 * database. Tokens live in memory for the copy and are never stored or logged. The issuer must be
 * a trusted issuer on an allowed host.
 */
export interface CredentialProfile {
  issuer: string;
  clientId: string;
  /** Name of the secret (`[a-z0-9-]{1,63}`) holding the client secret (see SecretStore). */
  clientSecretName: string;
  /** Registry `service` names (token audiences) this profile may obtain tokens for. */
  services: string[];
}

/** What a credential profile may name as its secret: a name, never a path. */
export const SECRET_NAME = /^[a-z0-9-]{1,63}$/;

/** Where promoted artifacts go. `repository` may contain `{repository}`, the source repository. */
export interface TargetMapping {
  registry: string;
  repository: string;
  /** Plain http instead of https (loopback or private networks). */
  insecure?: boolean;
  /** How the promoter obtains pull-and-push tokens for the target. */
  credentials?: CredentialProfile;
}

export function isSourceAllowed(
  sources: readonly SourceRule[],
  artifact: Pick<ArtifactReference, 'registry' | 'repository'>,
): boolean {
  return sources.some(
    (rule) =>
      rule.registry === artifact.registry &&
      rule.repositories.some((pattern) => matchesRepositoryPattern(pattern, artifact.repository)),
  );
}

export function targetRepositoryFor(target: TargetMapping, sourceRepository: string): string {
  return target.repository.split('{repository}').join(sourceRepository);
}
