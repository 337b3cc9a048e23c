import { Logger } from '@nestjs/common';
import { Failure, type GateDecision, PromotionKind, PromotionStatus as S } from '../../domain';
import { JobName } from '../../jobs/job.types';
import { type PromotionGateService } from '../gate/gate.service';
import { type SigningKey } from '../../trust';
import { type EnvironmentService } from '../environment/environment.service';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { type SourceRegistries } from '../registry/source-registries';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { type PromoterCopier } from './promoter-copier';
import { PromoterService, promotionFacts } from './promoter.service';

const stats = { blobsCopied: 1 };

const PROCEED: GateDecision = {
  action: 'proceed',
  evidence: { upstream: null, soak: null, freeze: { overridden: false, windows: [] } },
};
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** The promoter with its copy (registries, signing) replaced by `copy`, and the gate by `gate`. */
function promoter(copy: () => Promise<unknown>, gate: GateDecision = PROCEED) {
  const promotions = new InMemoryPromotions();
  const service = new PromoterService(
    promotions.asRepository,
    {} as EnvironmentService,
    {} as SourceRegistries,
    promotions.asStateMachine,
    {} as SigningKey,
    { decide: async () => gate, now: () => NOW } as unknown as PromotionGateService,
    {} as PromoterCopier,
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
    expect(promotions.rows.get(p.id)?.gate).toEqual(PROCEED.action === 'proceed' && PROCEED.evidence);
  });

  it('waits instead of copying when the gate says not yet, with the release job delayed until then', async () => {
    const until = new Date(NOW + 90_000);
    const { service, promotions, copies } = promoter(async () => stats, {
      action: 'wait',
      for: 'soak',
      until,
      reason: 'soaking in staging',
    });
    const p = promotions.add({ status: S.Approved });
    await service.run(p.id, false);
    expect(copies).not.toHaveBeenCalled();
    expect(promotions.path(p.id)).toEqual([S.Waiting]);
    const row = promotions.rows.get(p.id);
    expect(row).toMatchObject({ waitingFor: 'soak', waitingUntil: until });
    expect(promotions.history[0]).toMatchObject({ job: JobName.Release, waiting: { delayMs: 90_000 } });
  });

  it('rejects before copying when the upstream no longer holds the digest', async () => {
    const { service, promotions, copies } = promoter(async () => stats, {
      action: 'refuse',
      reason: 'the tag there points to another digest now',
    });
    const p = promotions.add({ status: S.Approved });
    await service.run(p.id, false);
    expect(copies).not.toHaveBeenCalled();
    expect(promotions.status(p.id)).toBe(S.Rejected);
  });

  it('says loudly, in the transition and its audit details, that break-glass overrode a freeze', async () => {
    const evidence = {
      upstream: null,
      soak: null,
      freeze: { overridden: true, windows: ['release-freeze'] },
    };
    const { service, promotions } = promoter(async () => stats, { action: 'proceed', evidence });
    const p = promotions.add({ status: S.Approved, breakGlass: true });
    await service.run(p.id, false);
    expect(promotions.history[0].reason).toMatch(/FREEZE OVERRIDDEN/);
    expect(promotions.history[0].details).toMatchObject({ severity: 'critical', freezeOverridden: true });
    expect(promotions.rows.get(p.id)?.gate).toEqual(evidence);
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

  it('attests the upstream promotion relied on, the soak observed and a freeze override', () => {
    const gate = {
      upstream: {
        environment: 'staging',
        promotionId: 'u-1',
        tag: 'v1',
        promotedAt: '2026-01-01T00:00:00.000Z',
      },
      soak: { required: '24h', skipped: false, since: '2026-01-01T00:00:00.000Z', observedSeconds: 90_000 },
      freeze: { overridden: true, windows: ['weekend'] },
    };
    const f = promotionFacts(promotions.add({ gate }), facts, 'production', new Date());
    expect(f).toMatchObject({ upstream: gate.upstream, soak: gate.soak, freeze: gate.freeze });
    const plain = promotionFacts(promotions.add(), facts, 'production', new Date());
    expect(plain).toMatchObject({ upstream: null, soak: null, freeze: { overridden: false, windows: [] } });
  });

  it('says break-glass from the promotion flag, whatever the reasons say', () => {
    expect(
      promotionFacts(promotions.add({ breakGlass: true }), facts, 'production', new Date()).breakGlass,
    ).toBe(true);
    const worded = promotions.add({ reasons: ['BREAK-GLASS in the comment only'] });
    expect(promotionFacts(worded, facts, 'production', new Date()).breakGlass).toBe(false);
  });

  it('says rollback, and the promotions rolled back from and to, from the row', () => {
    const rollback = promotions.add({
      kind: PromotionKind.Rollback,
      rollbackFromPromotionId: 'p-b',
      rollbackToPromotionId: 'p-a',
      metadata: { reason: 'B leaks memory' },
    });
    expect(promotionFacts(rollback, facts, 'production', new Date())).toMatchObject({
      kind: 'rollback',
      rollback: { fromPromotionId: 'p-b', toPromotionId: 'p-a', reason: 'B leaks memory' },
    });
    expect(promotionFacts(promotions.add(), facts, 'production', new Date())).toMatchObject({
      kind: 'promotion',
      rollback: null,
    });
  });
});
