import { DomainError, ErrorCode } from '../../domain';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { type TagHistoryEntry } from './promotion.repository';
import { rollbackTarget } from './rollback.service';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const A = digest('a');
const B = digest('b');
const C = digest('c');

/** The history of one tag, newest first, from digests oldest first. */
function history(...digests: string[]): TagHistoryEntry[] {
  const promotions = new InMemoryPromotions();
  return digests
    .map((d, i) => ({
      promotion: promotions.add({ digest: d, tag: 'stable' }),
      promotedAt: new Date(Date.UTC(2026, 0, 1, i)),
    }))
    .reverse();
}

const ask = (to: string) => ({ repository: 'prod/acme/app', tag: 'stable', to });

function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}

describe(rollbackTarget.name, () => {
  it('previous: the digest before the current one, rolling back the current promotion', () => {
    const h = history(A, B);
    const { from, to } = rollbackTarget(h, ask('previous'), 'production');
    expect([from.digest, to.digest]).toEqual([B, A]);
    expect(from.id).toBe(h[0].promotion.id);
  });

  it('previous skips writes of the current digest (A, B, B → A)', () => {
    expect(rollbackTarget(history(A, B, B), ask('previous'), 'production').to.digest).toBe(A);
  });

  it('a named digest: its newest write', () => {
    const h = history(A, B, A, C);
    expect(rollbackTarget(h, ask(A), 'production').to.id).toBe(h[1].promotion.id);
  });

  it.each([
    ['a digest never promoted to the tag', history(A, B), C, ErrorCode.RollbackTargetUnknown],
    ['a tag Airlock never wrote', history(), 'previous', ErrorCode.RollbackTargetUnknown],
    ['the digest the tag holds', history(A, B), B, ErrorCode.RollbackNothingToDo],
    ['previous with one digest only', history(A, A), 'previous', ErrorCode.RollbackNothingToDo],
  ])('refuses %s', (_name, h, to, code) => {
    expect(refusal(() => rollbackTarget(h, ask(to), 'production'))).toBe(code);
  });
});
