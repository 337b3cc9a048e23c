import { DomainError, ErrorCode } from './errors';

/**
 * An OCI artifact pinned by digest: `registry/repository@sha256:<64 hex>`.
 * The registry part is a host with an optional port; the repository follows the distribution
 * spec's path grammar. Tags are not accepted here: a tag is resolved to a digest at intake.
 */
export interface ArtifactReference {
  registry: string;
  repository: string;
  digest: string;
}

const REGISTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;
const REPOSITORY_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_REFERENCE_LENGTH = 512;

export function parseArtifactReference(input: string): ArtifactReference {
  const fail = (why: string): never => {
    throw new DomainError(ErrorCode.ValidationFailed, `artifact: ${why}`, {
      field: 'artifact',
      expected: 'registry/repository@sha256:<64 lowercase hex>',
    });
  };
  if (input.length > MAX_REFERENCE_LENGTH) fail(`longer than ${MAX_REFERENCE_LENGTH} characters`);
  const at = input.indexOf('@');
  if (at < 0) fail('must be pinned by digest (…@sha256:<hex>)');
  const name = input.slice(0, at);
  const digest = input.slice(at + 1);
  if (!DIGEST.test(digest)) fail('digest must be sha256: followed by 64 lowercase hex characters');
  const slash = name.indexOf('/');
  if (slash < 0) fail('must name a registry host and a repository');
  const registry = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  if (
    !REGISTRY.test(registry) ||
    (!registry.includes('.') && !registry.includes(':') && registry !== 'localhost')
  )
    fail('registry must be a host name (with a dot or a port) or localhost');
  const port = registry.includes(':') ? Number(registry.split(':')[1]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) fail('registry port out of range');
  const components = repository.split('/');
  if (repository.length > 255 || components.some((c) => !REPOSITORY_COMPONENT.test(c)))
    fail('repository must be lowercase path components of letters, digits and separators');
  return { registry, repository, digest };
}

export function formatArtifactReference(ref: ArtifactReference): string {
  return `${ref.registry}/${ref.repository}@${ref.digest}`;
}
