// What the referrers lookup returns, and the pure parts of it (filtering, pagination links).
import type { Descriptor } from './media-types';

/**
 * Manifests that name an artifact as their `subject` (signatures, attestations, SBOMs).
 * Neither source proves anything: anyone who can push to the repository can add entries (and the
 * tag-schema index can list manifests whose subject is something else). Fetch each manifest by
 * digest and check its `subject` before trusting it for this artifact.
 */
export interface ReferrersResult {
  /** `api`: OCI 1.1 referrers API; `tag-schema`: the `sha256-<hex>` index fallback (or neither exists). */
  source: 'api' | 'tag-schema';
  manifests: Descriptor[];
}

export interface ReferrersOptions {
  /** Only descriptors with exactly this artifactType. */
  artifactType?: string;
}

/** Upper bound on followed `Link: rel="next"` pages of a referrers answer. */
export const MAX_REFERRERS_PAGES = 16;

export function filterByArtifactType(
  manifests: Descriptor[],
  artifactType: string | undefined,
): Descriptor[] {
  return artifactType === undefined ? manifests : manifests.filter((m) => m.artifactType === artifactType);
}

/** The `rel="next"` target of a Link header (RFC 8288), resolved against `base`. */
export function nextLink(header: string | string[] | undefined, base: URL): URL | undefined {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const value of values) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>\s*((?:;[^;]*)*)$/.exec(part);
      if (match === null) continue;
      if (/;\s*rel="?next"?/i.test(match[2]) && URL.canParse(match[1], base.href))
        return new URL(match[1], base);
    }
  }
  return undefined;
}
