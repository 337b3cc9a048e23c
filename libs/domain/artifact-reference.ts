import { DomainError, ErrorCode } from './errors';

/**
 * An OCI artifact pinned by digest: `registry/repository@sha256:<64 hex>`.
 * The registry part is a host with an optional port; the repository follows the distribution
 * spec's path grammar.
 */
export interface ArtifactReference {
  registry: string;
  repository: string;
  digest: string;
}

/** What a caller may name at intake: a digest, or a tag that is resolved once and then pinned. */
export type RequestedArtifact =
  | (ArtifactReference & { tag?: undefined })
  | { registry: string; repository: string; tag: string; digest?: undefined };

export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Parses `registry/repository@sha256:…` or `registry/repository:tag`. A tag is kept for the
 * record only; everything after intake works on the digest it resolved to.
 */
export function parseRequestedArtifact(input: string): RequestedArtifact {
  if (input.includes('@')) return parseArtifactReference(input);
  const slash = input.indexOf('/');
  const colon = input.lastIndexOf(':');
  if (slash < 0 || colon < slash) {
    return parseArtifactReference(input); // no tag: reports the missing digest
  }
  const tag = input.slice(colon + 1);
  if (!TAG.test(tag)) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      'artifact: the tag must be 1–128 characters of letters, digits, _ . -',
      {
        field: 'artifact',
      },
    );
  }
  const { registry, repository } = parseArtifactReference(
    `${input.slice(0, colon)}@sha256:${'0'.repeat(64)}`,
  );
  return { registry, repository, tag };
}

const REGISTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;
const REPOSITORY_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** A whole repository path: components as above, separated by slashes (at most 255 characters). */
export const REPOSITORY =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_REFERENCE_LENGTH = 512;

export function parseArtifactReference(input: string): ArtifactReference {
  const fail = (why: string): never => {
    throw new DomainError(ErrorCode.ValidationFailed, `artifact: ${why}`, {
      field: 'artifact',
      expected: 'registry/repository@sha256:<64 lowercase hex> or registry/repository:tag',
    });
  };
  if (input.length > MAX_REFERENCE_LENGTH) fail(`longer than ${MAX_REFERENCE_LENGTH} characters`);
  const at = input.indexOf('@');
  if (at < 0) fail('must be pinned by digest (…@sha256:<hex>) or name a tag (…:tag)');
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
