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
  /**
   * Which of this registry's repositories a CI workload may ask for, written in terms of its
   * token's `repository` claim: `{repository}` (the default) means the artifact's repository path
   * equals the claim (lowercased, as image names are); `mirror/{repository}` maps `acme/app` to
   * `mirror/acme/app`. A role binding's `artifactRepositoryPattern` may allow more.
   */
  ciRepository?: string;
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

/** The placeholder a source rule's `ciRepository` template must contain. */
export const CI_REPOSITORY_PLACEHOLDER = '{repository}';

/** The repository a CI workload with this `repository` claim owns under a source rule. */
export function ciRepositoryFor(rule: Pick<SourceRule, 'ciRepository'>, claimRepository: string): string {
  const template = rule.ciRepository ?? CI_REPOSITORY_PLACEHOLDER;
  return template.split(CI_REPOSITORY_PLACEHOLDER).join(claimRepository.toLowerCase());
}

/** Who is asking for an artifact, as far as which repositories they may ask for is concerned. */
export interface RequesterScope {
  kind: 'ci' | 'human' | 'system';
  /** A CI token's `repository` claim (GitHub `repository`, GitLab `project_path`). */
  claimRepository?: string;
  /**
   * One entry per requester role binding that holds in the environment: its
   * `artifactRepositoryPattern`, or null when it has none.
   */
  grantPatterns: ReadonlyArray<string | null>;
}

/**
 * Whether a requester may ask for this artifact (its source already allowed by the environment).
 * A binding's `artifactRepositoryPattern` allows the repositories it matches. Without one, a
 * person's binding allows whatever the environment's sources allow, and a CI workload may ask only
 * for its own repository: the one a source rule for the artifact's registry and repository maps
 * its `repository` claim to. Otherwise any workload trusted as a requester could become "the
 * requester" of another team's artifact, and that team's own committers could then approve it.
 */
export function mayRequestRepository(
  sources: readonly SourceRule[],
  artifact: Pick<ArtifactReference, 'registry' | 'repository'>,
  scope: RequesterScope,
): boolean {
  if (scope.grantPatterns.some((p) => p !== null && matchesRepositoryPattern(p, artifact.repository)))
    return true;
  if (scope.kind !== 'ci') return scope.grantPatterns.some((p) => p === null);
  const claim = scope.claimRepository;
  if (!claim || scope.grantPatterns.length === 0) return false;
  return sources.some(
    (rule) =>
      rule.registry === artifact.registry &&
      rule.repositories.some((pattern) => matchesRepositoryPattern(pattern, artifact.repository)) &&
      ciRepositoryFor(rule, claim) === artifact.repository,
  );
}
