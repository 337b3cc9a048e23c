import { type ArtifactReference } from './artifact-reference';
import { matchesRepositoryPattern } from './repository-pattern';

/** A registry an environment accepts artifacts from, and which of its repositories. */
export interface SourceRule {
  registry: string;
  repositories: string[];
}

/** Where promoted artifacts go. `repository` may contain `{repository}`, the source repository. */
export interface TargetMapping {
  registry: string;
  repository: string;
}

export function isSourceAllowed(sources: readonly SourceRule[], artifact: ArtifactReference): boolean {
  return sources.some(
    (rule) =>
      rule.registry === artifact.registry &&
      rule.repositories.some((pattern) => matchesRepositoryPattern(pattern, artifact.repository)),
  );
}

export function targetRepositoryFor(target: TargetMapping, sourceRepository: string): string {
  return target.repository.split('{repository}').join(sourceRepository);
}
