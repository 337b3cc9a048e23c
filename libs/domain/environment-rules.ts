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
}

/** Where promoted artifacts go. `repository` may contain `{repository}`, the source repository. */
export interface TargetMapping {
  registry: string;
  repository: string;
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
