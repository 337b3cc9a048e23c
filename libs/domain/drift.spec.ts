import { driftSummary, type PromotedArtifact, repositoryDrift, type RepositoryObservation } from './drift';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const REPO = 'prod/acme/app';

const promoted = (id: string, tag: string | null, digest: string, seq: number): PromotedArtifact => ({
  promotionId: id,
  repository: REPO,
  tag,
  digest,
  seq,
});

function seen(
  tags: Record<string, string | null>,
  present: Record<string, boolean> = {},
  extra: Partial<RepositoryObservation> = {},
): RepositoryObservation {
  return {
    repository: REPO,
    tags: Object.keys(tags),
    tagDigests: new Map(Object.entries(tags)),
    digestPresent: new Map(Object.entries(present)),
    truncated: false,
    ...extra,
  };
}

describe(repositoryDrift.name, () => {
  it('finds nothing when the registry holds what was promoted, digest tags included', () => {
    const findings = repositoryDrift(
      [promoted('p1', 'v1', D1, 1)],
      seen(
        { v1: D1, [`sha256-${'1'.repeat(64)}.sig`]: null, [`sha256-${'1'.repeat(64)}.att`]: null },
        { [D1]: true },
      ),
    );
    expect(findings).toEqual([]);
    expect(driftSummary(findings)).toMatch(/no drift/);
  });

  it('a tag moved to another digest', () => {
    const findings = repositoryDrift([promoted('p1', 'v1', D1, 1)], seen({ v1: D2 }, { [D1]: true }));
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'tag_moved',
        tag: 'v1',
        expectedDigest: D1,
        actualDigest: D2,
        promotionId: 'p1',
      }),
    ]);
  });

  it('the latest promotion of a tag says where it should point', () => {
    const findings = repositoryDrift(
      [promoted('p2', 'v1', D2, 2), promoted('p1', 'v1', D1, 1)],
      seen({ v1: D2 }, { [D1]: true, [D2]: true }),
    );
    expect(findings).toEqual([]);
  });

  it('a tag never written by Airlock, and digest tags of digests it never promoted', () => {
    const foreign = `sha256-${'3'.repeat(64)}.sig`;
    const findings = repositoryDrift(
      [promoted('p1', 'v1', D1, 1)],
      seen({ v1: D1, hotfix: D3, [foreign]: null }, { [D1]: true }),
    );
    expect(findings.map((f) => [f.kind, f.tag, f.actualDigest])).toEqual([
      ['tag_unknown', 'hotfix', D3],
      ['tag_unknown', foreign, null],
    ]);
  });

  it('a promoted digest that is gone, and its tag with it', () => {
    const findings = repositoryDrift([promoted('p1', 'v1', D1, 1)], seen({}, { [D1]: false }));
    expect(findings.map((f) => f.kind)).toEqual(['tag_missing', 'digest_missing']);
    expect(driftSummary(findings)).toBe('1 promoted tag gone, 1 promoted digest gone');
  });

  it('does not call a tag gone when the listing was truncated before it', () => {
    const findings = repositoryDrift(
      [promoted('p1', 'v1', D1, 1)],
      seen({}, { [D1]: true }, { truncated: true }),
    );
    expect(findings).toEqual([]);
  });

  it('an untagged promotion counts only by its digest', () => {
    expect(repositoryDrift([promoted('p1', null, D1, 1)], seen({}, { [D1]: true }))).toEqual([]);
    expect(repositoryDrift([promoted('p1', null, D1, 1)], seen({}, { [D1]: false }))).toEqual([
      expect.objectContaining({ kind: 'digest_missing', expectedDigest: D1 }),
    ]);
  });

  it('summarises by kind', () => {
    const findings = repositoryDrift(
      [promoted('p1', 'v1', D1, 1), promoted('p2', 'v2', D2, 2)],
      seen({ v1: D3, v2: D3, x: D3 }, { [D1]: true, [D2]: true }),
    );
    expect(driftSummary(findings)).toBe('2 tags moved, 1 tag never written by Airlock');
  });
});
