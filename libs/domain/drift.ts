// Drift: what a target registry holds now, against what Airlock promoted into it. Pure: the drift
// service reads the registry and the promotions, this file decides what differs.

/**
 * - `tag_moved`: a tag Airlock wrote now names another digest (someone pushed over it).
 * - `tag_missing`: a tag Airlock wrote is gone (its digest may still be there).
 * - `tag_unknown`: a tag Airlock never wrote (pushed behind its back).
 * - `digest_missing`: a digest Airlock promoted is gone from the repository.
 */
export type DriftKind = 'tag_moved' | 'tag_missing' | 'tag_unknown' | 'digest_missing';

export const DRIFT_KINDS: readonly DriftKind[] = [
  'tag_moved',
  'tag_missing',
  'tag_unknown',
  'digest_missing',
];

/** One promotion that ended `promoted`, as drift sees it. */
export interface PromotedArtifact {
  promotionId: string;
  /** Target repository. */
  repository: string;
  tag: string | null;
  digest: string;
  /** Insertion order of the promotion: for one tag the latest promotion says where it should point. */
  seq: number;
}

/** What the registry said about one repository. */
export interface RepositoryObservation {
  repository: string;
  /** Every tag listed (within the check's bounds). */
  tags: readonly string[];
  /** For tags that were looked at: the digest the tag names now (HEAD), or null when it is gone. */
  tagDigests: ReadonlyMap<string, string | null>;
  /** For promoted digests that were looked at: whether the manifest is still there. */
  digestPresent: ReadonlyMap<string, boolean>;
  /** The listing stopped at a bound: tags not listed are not reported missing. */
  truncated: boolean;
}

export interface DriftFinding {
  kind: DriftKind;
  repository: string;
  tag: string | null;
  /** What Airlock promoted (null for a tag it never wrote). */
  expectedDigest: string | null;
  /** What the registry holds now (null when gone or not looked at). */
  actualDigest: string | null;
  promotionId: string | null;
  message: string;
}

/**
 * Tags Airlock writes besides the promotion's own: cosign's `sha256-<hex>.sig` / `.att` and the
 * referrers fallback index `sha256-<hex>` of a promoted digest.
 */
const DIGEST_TAG = /^sha256-([a-f0-9]{64})(?:\.(?:sig|att|sbom))?$/;

/** For each target tag, the promotion that last wrote it (the latest by seq). */
export function expectedTags(promoted: readonly PromotedArtifact[]): Map<string, PromotedArtifact> {
  const byTag = new Map<string, PromotedArtifact>();
  for (const p of promoted) {
    if (p.tag === null) continue;
    const key = tagKey(p.repository, p.tag);
    const known = byTag.get(key);
    if (!known || known.seq < p.seq) byTag.set(key, p);
  }
  return byTag;
}

export const tagKey = (repository: string, tag: string): string => `${repository}\u0000${tag}`;

/** Whether Airlock wrote this tag: a promoted tag, or a digest tag of a digest it promoted there. */
export function writtenByAirlock(
  tag: string,
  repository: string,
  expected: ReadonlyMap<string, PromotedArtifact>,
  promotedDigests: ReadonlySet<string>,
): boolean {
  if (expected.has(tagKey(repository, tag))) return true;
  const m = DIGEST_TAG.exec(tag);
  return m !== null && promotedDigests.has(`sha256:${m[1]}`);
}

/**
 * The differences between one repository's observation and the promotions into it. `promoted`
 * holds every promoted artifact of that repository.
 */
export function repositoryDrift(
  promoted: readonly PromotedArtifact[],
  seen: RepositoryObservation,
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const repository = seen.repository;
  const mine = promoted.filter((p) => p.repository === repository);
  const expected = expectedTags(mine);
  const digests = new Set(mine.map((p) => p.digest));
  const listed = new Set(seen.tags);
  const at = (tag: string) => `${repository}:${tag}`;

  for (const p of expected.values()) {
    const tag = p.tag as string;
    if (!seen.tagDigests.has(tag)) {
      // Not looked at: gone when a complete listing lacks it, otherwise unknown and not reported.
      if (listed.has(tag) || seen.truncated) continue;
      findings.push(missingTag(p, `${at(tag)} was promoted (${p.digest}) but the tag is gone`));
      continue;
    }
    const now = seen.tagDigests.get(tag) ?? null;
    if (now === null) {
      findings.push(missingTag(p, `${at(tag)} was promoted (${p.digest}) but the tag is gone`));
    } else if (now !== p.digest) {
      findings.push({
        kind: 'tag_moved',
        repository,
        tag,
        expectedDigest: p.digest,
        actualDigest: now,
        promotionId: p.promotionId,
        message: `${at(tag)} names ${now}, not ${p.digest} that Airlock promoted`,
      });
    }
  }

  for (const tag of seen.tags) {
    if (writtenByAirlock(tag, repository, expected, digests)) continue;
    const now = seen.tagDigests.get(tag) ?? null;
    findings.push({
      kind: 'tag_unknown',
      repository,
      tag,
      expectedDigest: null,
      actualDigest: now,
      promotionId: null,
      message: `${at(tag)}${now ? ` (${now})` : ''} was not written by Airlock`,
    });
  }

  // The latest promotion of each digest speaks for it.
  const latestOfDigest = new Map<string, PromotedArtifact>();
  for (const p of mine) {
    const known = latestOfDigest.get(p.digest);
    if (!known || known.seq < p.seq) latestOfDigest.set(p.digest, p);
  }
  for (const p of latestOfDigest.values()) {
    if (seen.digestPresent.get(p.digest) !== false) continue;
    findings.push({
      kind: 'digest_missing',
      repository,
      tag: null,
      expectedDigest: p.digest,
      actualDigest: null,
      promotionId: p.promotionId,
      message: `${repository}@${p.digest} was promoted but is gone from the registry`,
    });
  }
  return findings;
}

function missingTag(p: PromotedArtifact, message: string): DriftFinding {
  return {
    kind: 'tag_missing',
    repository: p.repository,
    tag: p.tag,
    expectedDigest: p.digest,
    actualDigest: null,
    promotionId: p.promotionId,
    message,
  };
}

/** `2 tags moved, 1 tag never written by Airlock`: what a check found, for people. */
export function driftSummary(findings: readonly DriftFinding[]): string {
  if (findings.length === 0) return 'no drift: the registry holds what Airlock promoted';
  const words: Record<DriftKind, [string, string]> = {
    tag_moved: ['tag moved', 'tags moved'],
    tag_missing: ['promoted tag gone', 'promoted tags gone'],
    tag_unknown: ['tag never written by Airlock', 'tags never written by Airlock'],
    digest_missing: ['promoted digest gone', 'promoted digests gone'],
  };
  return DRIFT_KINDS.map((k) => [k, findings.filter((f) => f.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${words[k][n === 1 ? 0 : 1]}`)
    .join(', ');
}
