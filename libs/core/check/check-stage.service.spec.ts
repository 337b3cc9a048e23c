import { Logger } from '@nestjs/common';
import { CheckStatus, Failure, type PolicyDocument, PromotionKind, PromotionStatus as S } from '../../domain';
import { JobName } from '../../jobs/job.types';
import { type EnvironmentService } from '../environment/environment.service';
import { type PolicyService } from '../policy/policy.service';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { type WaiverService } from '../waiver/waiver.service';
import { type CheckKind, type CheckResult } from './check-kind';
import { type CheckRepository } from './check.repository';
import { CheckStageService } from './check-stage.service';
import { InMemoryWebhookEvents } from '../testing/in-memory-webhooks';

const pass: CheckResult = { status: CheckStatus.Pass, summary: 'ok', findings: [] };
const fail: CheckResult = {
  status: CheckStatus.Fail,
  summary: 'unsigned',
  findings: [],
  blocking: ['no signature'],
};
const down: CheckResult = {
  status: CheckStatus.Error,
  summary: 'registry unavailable',
  findings: [],
  failure: Failure.transient('503'),
};

function kind(name: string, result: CheckResult | (() => never)): CheckKind {
  return {
    kind: name,
    applies: () => true,
    run: async () => (typeof result === 'function' ? result() : result),
  };
}

function stage(
  kinds: CheckKind[],
  approvals: PolicyDocument['approvals'] = {},
  rest: Omit<PolicyDocument, 'approvals'> = {},
) {
  const promotions = new InMemoryPromotions();
  const stored: Array<{ id: string; kind: string; status: CheckStatus }> = [];
  const checks = {
    upsert: async (id: string, k: string, r: CheckResult) =>
      void stored.push({ id, kind: k, status: r.status }),
  } as unknown as CheckRepository;
  const policies = {
    byId: async () => ({ document: { approvals, ...rest } }),
  } as unknown as PolicyService;
  const environments = { byIdCached: async () => ({ sources: [] }) } as unknown as EnvironmentService;
  const waiverReads: string[] = [];
  const waivers = {
    inForceFor: async (environmentId: string) => (waiverReads.push(environmentId), []),
  } as unknown as WaiverService;
  const service = new CheckStageService(
    kinds,
    promotions.asRepository,
    checks,
    policies,
    promotions.asStateMachine,
    environments,
    new InMemoryWebhookEvents().asService,
    waivers,
  );
  const reads = jest.spyOn(promotions.repository, 'findById');
  return { service, promotions, stored, reads, waiverReads };
}

describe('CheckStageService: the check stage decides as the lifecycle says', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('runs the checks of a received promotion and approves it when nothing more is needed', async () => {
    const { service, promotions, stored } = stage([kind('signatures', pass), kind('vulnerabilities', pass)]);
    const p = promotions.add();
    await service.run(p.id, false);
    expect(promotions.path(p.id)).toEqual([S.Checking, S.Approved]);
    expect(stored.map((c) => c.kind)).toEqual(['signatures', 'vulnerabilities']);
    // received → checking runs inside this job; checking → approved starts the copy.
    expect(promotions.history.map((h) => h.job)).toEqual([null, JobName.Promote]);
    expect(promotions.wakes).toEqual(['outbox']);
  });

  it("decides a rollback under the policy's rollback rules: no scans, its own approvals", async () => {
    const scans = { secrets: {} } as PolicyDocument['scans'];
    const ran: string[] = [];
    const onScans = (name: string): CheckKind => ({
      kind: name,
      applies: (policy) => policy.scans !== undefined,
      run: async () => (ran.push(name), pass),
    });
    const signatures: CheckKind = {
      ...kind('signatures', pass),
      run: async () => (ran.push('signatures'), pass),
    };
    const { service, promotions } = stage(
      [signatures, onScans('secrets')],
      { required: 2 },
      {
        scans,
        rollback: { approvals: 1 },
      },
    );
    const promotion = promotions.add();
    const rollback = promotions.add({ kind: PromotionKind.Rollback });
    await service.run(promotion.id, false);
    await service.run(rollback.id, false);
    expect(ran).toEqual(['signatures', 'secrets', 'signatures']);
    expect(promotions.rows.get(promotion.id)?.reasons).toEqual(['2 approval(s) required']);
    expect(promotions.rows.get(rollback.id)?.reasons).toEqual(['1 approval(s) required']);
  });

  it('waits for approvals when the policy asks for them', async () => {
    const { service, promotions } = stage([kind('signatures', pass)], { required: 2 });
    const p = promotions.add();
    await service.run(p.id, false);
    expect(promotions.status(p.id)).toBe(S.AwaitingApproval);
    expect(promotions.rows.get(p.id)?.reasons).toEqual(['2 approval(s) required']);
  });

  it('rejects with every reason when a check fails, even while another could not run', async () => {
    const { service, promotions } = stage([kind('signatures', fail), kind('scans', down)]);
    const p = promotions.add();
    await service.run(p.id, false);
    expect(promotions.status(p.id)).toBe(S.Rejected);
    expect(promotions.rows.get(p.id)?.reasons).toEqual(
      expect.arrayContaining(['signatures: unsigned', 'signatures: no signature']),
    );
  });

  it('retries a check that could not run, and fails the promotion on the last attempt', async () => {
    const { service, promotions } = stage([kind('signatures', pass), kind('scans', down)]);
    const p = promotions.add();
    await expect(service.run(p.id, false)).rejects.toThrow(
      /checks could not run: scans: registry unavailable/,
    );
    expect(promotions.status(p.id)).toBe(S.Checking);
    await service.run(p.id, true);
    expect(promotions.status(p.id)).toBe(S.Failed);
    expect(promotions.rows.get(p.id)?.reasons).toEqual(['scans: registry unavailable']);
  });

  it('rejects at once when a check can never pass (a permanent failure thrown by the check)', async () => {
    const { service, promotions } = stage([
      kind('signatures', () => {
        throw Failure.permanent('blob does not match its digest');
      }),
    ]);
    const p = promotions.add();
    await service.run(p.id, false);
    expect(promotions.status(p.id)).toBe(S.Rejected);
  });

  it('does nothing for a promotion that has moved on or was cancelled', async () => {
    const { service, promotions, stored } = stage([kind('signatures', pass)]);
    const cancelled = promotions.add({ status: S.Cancelled });
    const waiting = promotions.add({ status: S.AwaitingApproval });
    await service.run(cancelled.id, false);
    await service.run(waiting.id, false);
    await service.run('missing', false);
    expect(promotions.history).toEqual([]);
    expect(stored).toEqual([]);
  });

  it('runs again from checking (a retry, or a crash after the first transition)', async () => {
    const { service, promotions, reads } = stage([kind('signatures', pass)]);
    const p = promotions.add({ status: S.Checking });
    await service.run(p.id, false);
    expect(promotions.path(p.id)).toEqual([S.Approved]);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('reads a received promotion through its first move alone', async () => {
    const { service, promotions, reads } = stage([kind('signatures', pass)]);
    const p = promotions.add();
    await service.run(p.id, false);
    expect(promotions.path(p.id)).toEqual([S.Checking, S.Approved]);
    expect(reads).not.toHaveBeenCalled();
  });

  it('reads the waivers in force only when a check runs under a policy that allows waivers', async () => {
    const allowing = { waivers: {} } as Omit<PolicyDocument, 'approvals'>;
    const cases = [
      { kinds: [kind('signatures', pass)], rest: {}, reads: 0 },
      { kinds: [], rest: allowing, reads: 0 },
      { kinds: [kind('signatures', pass)], rest: allowing, reads: 1 },
    ];
    for (const c of cases) {
      const { service, promotions, waiverReads } = stage(c.kinds, {}, c.rest);
      await service.run(promotions.add().id, false);
      expect(waiverReads).toHaveLength(c.reads);
    }
  });

  it('abandons a check stage as failed, and leaves a promotion that moved on alone', async () => {
    const { service, promotions } = stage([]);
    const p = promotions.add({ status: S.Checking });
    await service.abandon(p.id, 'stalled', false);
    expect(promotions.status(p.id)).toBe(S.Failed);
    expect(promotions.rows.get(p.id)?.reasons).toEqual(['checks could not complete: stalled; retry it']);
    const done = promotions.add({ status: S.Approved });
    await service.abandon(done.id, 'stalled', true);
    expect(promotions.status(done.id)).toBe(S.Approved);
  });
});
