import { Logger } from '@nestjs/common';
import { Failure, PromotionStatus as S } from '../../domain';
import { type SigningKey } from '../../trust';
import { type EnvironmentService } from '../environment/environment.service';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { type SourceRegistries } from '../registry/source-registries';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { PromoterService, promotionFacts } from './promoter.service';

const stats = { blobsCopied: 1 };

/** The promoter with its copy (registries, signing) replaced by `copy`. */
function promoter(copy: () => Promise<unknown>) {
  const promotions = new InMemoryPromotions();
  const service = new PromoterService(
    promotions.asRepository,
    {} as EnvironmentService,
    {} as SourceRegistries,
    promotions.asStateMachine,
    {} as SigningKey,
  );
  const copies = jest
    .spyOn(service as unknown as { promote(p: PromotionEntity): Promise<unknown> }, 'promote')
    .mockImplementation(copy);
  return { service, promotions, copies };
}

describe('PromoterService: what the promoter decides', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('copies an approved promotion and records it promoted, with the copy statistics', async () => {
    const { service, promotions, copies } = promoter(async () => stats);
    const p = promotions.add({ status: S.Approved });
    await service.run(p.id, false);
    expect(promotions.path(p.id)).toEqual([S.Promoting, S.Promoted]);
    expect(copies).toHaveBeenCalledWith(expect.objectContaining({ id: p.id, status: S.Promoting }));
    expect(promotions.history.at(-1)?.details).toEqual({ copy: stats });
    expect(promotions.history.map((h) => h.job)).toEqual([null, null]);
  });

  it('resumes a copy that a crashed worker left promoting', async () => {
    const { service, promotions } = promoter(async () => stats);
    const p = promotions.add({ status: S.Promoting });
    await service.run(p.id, false);
    expect(promotions.path(p.id)).toEqual([S.Promoted]);
  });

  it('leaves a transient failure to the job retry, and fails the promotion on the last attempt', async () => {
    const { service, promotions } = promoter(async () => {
      throw Failure.transient('registry answered 503');
    });
    const p = promotions.add({ status: S.Approved });
    await expect(service.run(p.id, false)).rejects.toThrow('registry answered 503');
    expect(promotions.status(p.id)).toBe(S.Promoting);
    await service.run(p.id, true);
    expect(promotions.status(p.id)).toBe(S.Failed);
    expect(promotions.rows.get(p.id)?.reasons).toEqual(['promotion failed: registry answered 503']);
  });

  it('fails at once on a permanent failure: retrying would not mend it', async () => {
    const { service, promotions } = promoter(async () => {
      throw Failure.permanent('the target tag already holds another digest');
    });
    const p = promotions.add({ status: S.Approved });
    await service.run(p.id, false);
    expect(promotions.status(p.id)).toBe(S.Failed);
  });

  it('copies nothing for a promotion that is not approved or promoting', async () => {
    const { service, promotions, copies } = promoter(async () => stats);
    for (const status of [S.Cancelled, S.Promoted, S.AwaitingApproval, S.Failed]) {
      await service.run(promotions.add({ status }).id, false);
    }
    await service.run('missing', false);
    expect(copies).not.toHaveBeenCalled();
    expect(promotions.history).toEqual([]);
  });

  it('abandons a copy as failed, and leaves a promotion that moved on alone', async () => {
    const { service, promotions } = promoter(async () => stats);
    const p = promotions.add({ status: S.Promoting });
    await service.abandon(p.id, 'stalled');
    expect(promotions.rows.get(p.id)?.reasons).toEqual(['promotion failed: stalled; retry it']);
    const cancelled = promotions.add({ status: S.Cancelled });
    await service.abandon(cancelled.id, 'stalled', true);
    expect(promotions.status(cancelled.id)).toBe(S.Cancelled);
  });
});

describe('promotionFacts: what the attestation says', () => {
  const promotions = new InMemoryPromotions();
  const facts = {
    policyVersion: 3,
    checks: [{ kind: 'signatures', status: 'pass', summary: '1 of 1 signers' }],
    waivers: [],
    approvals: [{ decision: 'approve', approverKey: 'alice@https://login.example.com', at: new Date(1000) }],
  };

  it('attests the pinned policy, the checks and the decisions as read for it', () => {
    const p = promotions.add({ tag: 'v1' });
    const f = promotionFacts(p, facts, 'production', new Date(2000));
    expect(f).toMatchObject({
      promotionId: p.id,
      environment: 'production',
      policy: { version: 3, sha256: p.policySha256 },
      checks: facts.checks,
      approvals: [
        {
          decision: 'approve',
          approver: 'alice@https://login.example.com',
          at: new Date(1000).toISOString(),
        },
      ],
      breakGlass: false,
      source: { registry: p.sourceRegistry, repository: p.sourceRepository, digest: p.digest, tag: 'v1' },
      target: { registry: p.targetRegistry, repository: p.targetRepository, digest: p.digest, tag: 'v1' },
      promotedAt: new Date(2000).toISOString(),
    });
  });

  it('says break-glass from the promotion flag, whatever the reasons say', () => {
    expect(
      promotionFacts(promotions.add({ breakGlass: true }), facts, 'production', new Date()).breakGlass,
    ).toBe(true);
    const worded = promotions.add({ reasons: ['BREAK-GLASS in the comment only'] });
    expect(promotionFacts(worded, facts, 'production', new Date()).breakGlass).toBe(false);
  });
});
