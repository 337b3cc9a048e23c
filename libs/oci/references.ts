// Validation of the names that go into registry URLs, so nothing a caller passes can change a path.
import { RegistryError } from './errors';
import { isSha256Digest } from './digest-stream';

const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function assertRepository(repository: string): void {
  if (repository.length > 255 || !REPOSITORY.test(repository)) {
    throw new RegistryError(
      'invalid_request',
      `${JSON.stringify(repository.slice(0, 300))} is not a repository name (lowercase path components)`,
    );
  }
}

export function assertDigest(digest: string): void {
  if (!isSha256Digest(digest)) {
    throw new RegistryError(
      'invalid_request',
      `${JSON.stringify(digest.slice(0, 100))} is not a digest (sha256: and 64 lowercase hex characters)`,
    );
  }
}

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

/** A manifest reference: a tag or a sha256 digest. Returns whether it is a digest. */
export function assertReference(reference: string): { isDigest: boolean } {
  if (isSha256Digest(reference)) return { isDigest: true };
  if (isTag(reference)) return { isDigest: false };
  throw new RegistryError(
    'invalid_request',
    `${JSON.stringify(reference.slice(0, 150))} is neither a tag nor a sha256 digest`,
  );
}

/** The tag-schema name for things about `digest`: `sha256-<hex>`, plus `.<suffix>` when given. */
export function digestTag(digest: string, suffix?: string): string {
  assertDigest(digest);
  const base = digest.replace(':', '-');
  if (suffix === undefined) return base;
  if (!/^[a-z0-9]{1,32}$/.test(suffix)) {
    throw new RegistryError(
      'invalid_request',
      `tag suffix ${JSON.stringify(suffix.slice(0, 40))} is not [a-z0-9]+`,
    );
  }
  return `${base}.${suffix}`;
}

/** The Docker token protocol scope for a repository. */
export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}
