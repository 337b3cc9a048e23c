import { Logger } from '@nestjs/common';
import {
  ApprovalRefusal,
  type ApprovalsSection,
  ErrorCode,
  PromotionKind,
  PromotionStatus as S,
} from '../../domain';
import { JobName } from '../../jobs/job.types';
import { type AuditRepository } from '../audit/audit.repository';
import { type Clock } from '../common/clock';
import { type WaiverService } from '../waiver/waiver.service';
import { type EnvironmentService } from '../environment/environment.service';
import { type Caller, type RoleGrant } from '../identity/caller';
import { type IdentityLinkService } from '../identity/identity-link.service';
import { type IdentityService } from '../identity/identity.service';
import { Role } from '../identity/role-binding.entity';
import { type PolicyService } from '../policy/policy.service';
import { type PromotionRepository } from '../promotion/promotion.repository';
import { fakeTx, InMemoryPromotions } from '../testing/in-memory-promotions';
import { ApprovalDecision, type ApprovalEntity } from './approval.entity';
import { type ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';
import { type BreakGlassReviewEntity } from './break-glass-review.entity';
import { InMemoryWebhookEvents } from '../testing/in-memory-webhooks';

const ISSUER = 'https://login.example.com';
const approver: RoleGrant = { role: Role.Approver, environment: 'production' };
const person = (subject: string, grants: RoleGrant[] = [approver]): Caller => ({
  actor: { kind: 'human', issuer: ISSUER, subject },
  key: `${subject}@${ISSUER}`,
  groups: [],
  claims: {},
  tokenJti: null,
  grants,
});
const alice = person('alice');
const bob = person('bob');
const requester = person('ci', []);
const NOW = Date.parse('2026-06-01T12:00:00Z');

function approvals(
  required = 1,
  section: Omit<ApprovalsSection, 'required'> = {},
  rollbackApprovals?: number,
) {
  /** The rules' clock, which a test may move. */
  const time = { now: NOW };
  const promotions = new InMemoryPromotions();
  const decisions: ApprovalEntity[] = [];
  const audit: Array<{ action: string; details: Record<string, unknown> }> = [];
  const reviews: BreakGlassReviewEntity[] = [];
  /** Wake-ups seen while a transaction was still open: must stay empty. */
  const wakesBeforeCommit: string[][] = [];
  const grantsOf = new Map([alice, bob, requester].map((c) => [c.actor.subject, c.grants]));
  /** Reads the services make, by name: the pending list must not grow them per row. */
  const reads: string[] = [];
  const awaitingArgs: Array<string[] | null> = [];
  const repo = {
    transaction: async <T>(work: (tx: ReturnType<typeof fakeTx>) => Promise<T>): Promise<T> => {
      const tx = fakeTx();
      const value = await work(tx);
      wakesBeforeCommit.push([...promotions.wakes]);
      tx.commit();
      return value;
    },
    lockPromotion: async (id: string) => promotions.repository.findById(id),
    decisions: async (id: string) => decisions.filter((d) => d.promotionId === id),
    insert: async (a: Omit<ApprovalEntity, 'id'>) => {
      const row = { ...a, id: `a-${decisions.length + 1}` };
      decisions.push(row);
      return row;
    },
    insertReview: async (r: Record<string, unknown>) => {
      const row = {
        ...r,
        id: 'r-1',
        openedAt: new Date(NOW),
        signedOffAt: null,
        signedOffBy: null,
        signOffComment: null,
      };
      reviews.push(row as unknown as BreakGlassReviewEntity);
      return row;
    },
    review: async (id: string) => reviews.find((r) => r.id === id) ?? null,
    lockReview: async (id: string) => reviews.find((r) => r.id === id) ?? null,
    signOff: async (id: string, by: BreakGlassReviewEntity['signedOffBy'], comment: string) => {
      const r = reviews.find((x) => x.id === id);
      if (r) Object.assign(r, { signedOffBy: by, signedOffAt: new Date(NOW), signOffComment: comment });
    },
    awaitingPolicyVersions: async () => ['pv-1'],
    awaitingSince: async (_version: string, cutoff: Date, limit: number) =>
      [...promotions.rows.values()]
        .filter((p) => p.status === S.AwaitingApproval && p.updatedAt <= cutoff)
        .slice(0, limit)
        .map((p) => p.id),
    awaiting: async (environments: string[] | null) => {
      reads.push('awaiting');
      awaitingArgs.push(environments);
      return [...promotions.rows.values()]
        .filter((p) => p.status === S.AwaitingApproval)
        .map((p) => ({
          promotion: { ...p },
          environmentName: 'production',
          policyVersion: 1,
          approvals: { required, ...section },
          rollback: rollbackApprovals === undefined ? undefined : { approvals: rollbackApprovals },
          decisions: decisions.filter((d) => d.promotionId === p.id),
          evidence: [{ kind: 'signatures', status: 'pass', summary: 'signed' }],
        }));
    },
  } as unknown as ApprovalRepository;
  const policies = {
    byId: async () => {
      reads.push('policy');
      return {
        document: {
          approvals: { required, ...section },
          ...(rollbackApprovals === undefined ? {} : { rollback: { approvals: rollbackApprovals } }),
        },
      };
    },
  } as unknown as PolicyService;
  const environments = {
    byIdName: async () => 'production',
    byNameCached: async (name: string) => ({ id: 'env-1', name }),
  } as unknown as EnvironmentService;
  const links = {
    namesOf: async (c: { key: string }) => ({ person: c.key, aliases: [c.key] }),
    personOf: async (identity: string, generation?: number) => {
      // Without a generation the links service reads the current one: a query.
      if (generation === undefined) reads.push('generation');
      return identity;
    },
  } as unknown as IdentityLinkService;
  const identity = {
    currentGeneration: async () => {
      reads.push('generation');
      return 1;
    },
    prepare: async () => undefined,
    grantsFor: async (s: { subject: string }) => grantsOf.get(s.subject) ?? [],
  } as unknown as IdentityService;
  const auditRepo = {
    record: async (e: { action: string; details: Record<string, unknown> }) => void audit.push(e),
  } as unknown as AuditRepository;
  const clock = { now: () => time.now } as Clock;
  const waivers = { lapsedFor: async () => [] } as unknown as WaiverService;
  const service = new ApprovalService(
    repo,
    policies,
    environments,
    links,
    identity,
    promotions.repository as unknown as PromotionRepository,
    promotions.asStateMachine,
    auditRepo,
    clock,
    new InMemoryWebhookEvents().asService,
    waivers,
  );
  const waiting = () => promotions.add({ status: S.AwaitingApproval, requesterKey: requester.key });
  return {
    service,
    promotions,
    decisions,
    audit,
    reviews,
    wakesBeforeCommit,
    waiting,
    reads,
    awaitingArgs,
    grantsOf,
    time,
  };
}

const approve = (digest: string) => ({ decision: ApprovalDecision.Approve, digest });

describe('ApprovalService: the approval decision', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('approves once the required approvals are in, and starts the copy only after the commit', async () => {
    const { service, promotions, wakesBeforeCommit, waiting } = approvals(1);
    const p = waiting();
    const result = await service.decide(p.id, approve(p.digest), alice);
    expect(result).toMatchObject({ decision: 'approve', status: S.Approved, tally: { satisfied: true } });
    expect(promotions.history.at(-1)).toMatchObject({
      from: S.AwaitingApproval,
      to: S.Approved,
      job: JobName.Promote,
    });
    expect(wakesBeforeCommit).toEqual([[]]);
    expect(promotions.wakes).toEqual(['outbox']);
  });

  it("a rollback needs the approvals of the policy's rollback rules, a promotion still its own", async () => {
    const { service, promotions, waiting } = approvals(2, {}, 1);
    const promotion = waiting();
    const rollback = promotions.add({
      status: S.AwaitingApproval,
      requesterKey: requester.key,
      kind: PromotionKind.Rollback,
    });
    expect((await service.decide(promotion.id, approve(promotion.digest), alice)).status).toBe(
      S.AwaitingApproval,
    );
    expect((await service.decide(rollback.id, approve(rollback.digest), alice)).status).toBe(S.Approved);
  });

  it('counts distinct people: the first of two approvals keeps it waiting', async () => {
    const { service, promotions, waiting } = approvals(2);
    const p = waiting();
    expect((await service.decide(p.id, approve(p.digest), alice)).status).toBe(S.AwaitingApproval);
    await expect(service.decide(p.id, approve(p.digest), alice)).rejects.toMatchObject({
      code: ApprovalRefusal.AlreadyDecided,
    });
    expect((await service.decide(p.id, approve(p.digest), bob)).status).toBe(S.Approved);
    expect(promotions.wakes).toEqual(['outbox']);
  });

  it('refuses the requester deciding their own promotion, and records the refusal', async () => {
    const { service, promotions, audit, waiting } = approvals(1);
    const p = waiting();
    const self = person('ci');
    await expect(service.decide(p.id, approve(p.digest), self)).rejects.toMatchObject({
      code: ApprovalRefusal.SelfApproval,
    });
    expect(promotions.status(p.id)).toBe(S.AwaitingApproval);
    expect(audit.map((e) => e.action)).toEqual(['approval.refused']);
  });

  it('refuses a decision on another digest than the one reviewed', async () => {
    const { service, waiting } = approvals(1);
    const p = waiting();
    await expect(service.decide(p.id, approve(`sha256:${'c'.repeat(64)}`), alice)).rejects.toMatchObject({
      code: ApprovalRefusal.StaleReview,
    });
  });

  it('rejects with the comment, which a reject requires; a reject starts nothing', async () => {
    const { service, promotions, waiting } = approvals(2);
    const p = waiting();
    const reject = { decision: ApprovalDecision.Reject, digest: p.digest };
    await expect(service.decide(p.id, reject, alice)).rejects.toMatchObject({
      code: ApprovalRefusal.CommentRequired,
    });
    const result = await service.decide(p.id, { ...reject, comment: 'not this week' }, alice);
    expect(result.status).toBe(S.Rejected);
    expect(promotions.rows.get(p.id)?.reasons).toEqual([`rejected by ${alice.key}: not this week`]);
    expect(promotions.wakes).toEqual([]);
  });

  it('refuses a promotion that is not awaiting approval', async () => {
    const { service, promotions } = approvals(1);
    const p = promotions.add({ status: S.Checking });
    await expect(service.decide(p.id, approve(p.digest), alice)).rejects.toMatchObject({
      code: ApprovalRefusal.NotAwaitingApproval,
    });
  });

  it('breaks the glass: approved without approvals, flagged as break-glass, a review opened', async () => {
    const { service, promotions, reviews, audit, wakesBeforeCommit, waiting } = approvals(2);
    const p = waiting();
    const operator = person('oncall', [{ role: Role.BreakGlass, environment: 'production' }]);
    await service.breakGlass(p.id, 'outage fix', operator);
    expect(promotions.status(p.id)).toBe(S.Approved);
    expect(promotions.rows.get(p.id)?.breakGlass).toBe(true);
    expect(promotions.history.at(-1)).toMatchObject({ breakGlass: true, job: JobName.Promote });
    expect(reviews).toHaveLength(1);
    expect(audit.map((e) => e.action)).toEqual(['promotion.break_glass']);
    expect(wakesBeforeCommit).toEqual([[]]);
    expect(promotions.wakes).toEqual(['outbox']);
  });

  it('lists what the caller may decide, from one read, without their own requests or decisions', async () => {
    const { service, promotions, waiting } = approvals(2);
    const mine = promotions.add({ status: S.AwaitingApproval, requesterKey: alice.key });
    const open = waiting();
    const decided = waiting();
    await service.decide(decided.id, approve(decided.digest), alice);
    const listed = await service.pending(alice, 50);
    expect(listed.map((v) => v.id)).toEqual([open.id]);
    expect(listed[0]).toMatchObject({
      evidence: [{ kind: 'signatures', status: 'pass', summary: 'signed' }],
      tally: { satisfied: false },
    });
    expect((await service.pending(bob, 50)).map((v) => v.id).sort()).toEqual(
      [mine.id, open.id, decided.id].sort(),
    );
  });

  it('reads the pending page in one statement: no policy, generation or promotion read per row', async () => {
    const { service, promotions, waiting, reads } = approvals(2);
    for (let i = 0; i < 5; i++) waiting();
    promotions.add({ status: S.AwaitingApproval, requesterKey: alice.key });
    reads.length = 0;
    const listed = await service.pending(alice, 50);
    expect(listed).toHaveLength(5);
    expect(listed[0]).toMatchObject({
      environment: 'production',
      policyVersion: 1,
      status: S.AwaitingApproval,
    });
    expect(reads).toEqual(['generation', 'awaiting']);
  });

  it('lists by the environments the caller approves for, by name; none granted, nothing read', async () => {
    const { service, waiting, reads, awaitingArgs } = approvals(1);
    waiting();
    await service.pending(alice, 10);
    expect(awaitingArgs).toEqual([['production']]);
    const admin = person('root', [{ role: Role.Approver, environment: null }]);
    await service.pending(admin, 10);
    expect(awaitingArgs.at(-1)).toBeNull();
    reads.length = 0;
    expect(await service.pending(person('nobody', [{ role: Role.Auditor, environment: null }]), 10)).toEqual(
      [],
    );
    expect(reads).toEqual([]);
  });

  it('stops counting an approval past expiresAfter: its approver may approve again', async () => {
    const { service, decisions, waiting } = approvals(2, { expiresAfter: '1h' });
    const p = waiting();
    await service.decide(p.id, approve(p.digest), alice);
    decisions[0].createdAt = new Date(NOW - 2 * 3600_000);
    const again = await service.decide(p.id, approve(p.digest), alice);
    expect(again).toMatchObject({ status: S.AwaitingApproval, tally: { satisfied: false } });
    expect(decisions).toHaveLength(2);
  });

  it('counts approvers as they stand now: one whose role was removed no longer counts', async () => {
    const { service, grantsOf, waiting } = approvals(2);
    const p = waiting();
    await service.decide(p.id, approve(p.digest), alice);
    grantsOf.set('alice', []);
    const after = await service.decide(p.id, approve(p.digest), bob);
    expect(after).toMatchObject({ status: S.AwaitingApproval, tally: { satisfied: false } });
  });

  it('refuses break-glass without the break_glass role, moving nothing', async () => {
    const { service, promotions, reviews, waiting } = approvals(1);
    const p = waiting();
    await expect(service.breakGlass(p.id, 'outage fix', alice)).rejects.toMatchObject({
      code: ErrorCode.Forbidden,
    });
    expect(promotions.status(p.id)).toBe(S.AwaitingApproval);
    expect(reviews).toEqual([]);
  });

  it('lets another approver sign off a break-glass review, never the one who broke the glass', async () => {
    const { service, audit, waiting } = approvals(1);
    const p = waiting();
    const operator = person('oncall', [
      { role: Role.BreakGlass, environment: 'production' },
      { role: Role.Approver, environment: 'production' },
    ]);
    const review = await service.breakGlass(p.id, 'outage fix', operator);
    await expect(service.signOff(review.id, 'fine', operator)).rejects.toMatchObject({
      code: ApprovalRefusal.SelfApproval,
    });
    await expect(service.signOff(review.id, 'fine', person('ivan', []))).rejects.toMatchObject({
      code: ErrorCode.Forbidden,
    });
    const signed = await service.signOff(review.id, 'checked the diff', alice);
    expect(signed).toMatchObject({ signedOffBy: alice.key, signOffComment: 'checked the diff' });
    await expect(service.signOff(review.id, 'again', bob)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
    });
    expect(audit.map((e) => e.action)).toEqual(['promotion.break_glass', 'break_glass.signed_off']);
  });
});

describe('ApprovalService.expireOverdue', () => {
  it('expires requests nobody decided within the pending timeout, and only those', async () => {
    const { service, promotions, waiting } = approvals(1, { pendingTimeout: '1h' });
    const old = waiting();
    old.updatedAt = new Date(NOW - 2 * 3600_000);
    const fresh = waiting();
    fresh.updatedAt = new Date(NOW - 60_000);
    expect(await service.expireOverdue()).toBe(1);
    expect(promotions.status(old.id)).toBe(S.Expired);
    expect(promotions.status(fresh.id)).toBe(S.AwaitingApproval);
    expect(promotions.wakes).toEqual([]);
  });

  it('expires nothing under a policy without a pending timeout', async () => {
    const { service, promotions, waiting } = approvals(1);
    const old = waiting();
    old.updatedAt = new Date(NOW - 30 * 24 * 3600_000);
    expect(await service.expireOverdue()).toBe(0);
    expect(promotions.status(old.id)).toBe(S.AwaitingApproval);
  });

  describe('the end of a wait (soak, freeze)', () => {
    const held = (promotions: InMemoryPromotions, over: Record<string, unknown> = {}) =>
      promotions.add({
        status: S.Waiting,
        waitingFor: 'soak',
        waitingUntil: new Date(NOW + 60_000),
        requesterKey: requester.key,
        ...over,
      });

    it('does nothing before its time, and says how long is left', async () => {
      const { service, promotions } = approvals(0);
      const p = held(promotions);
      expect(await service.release(p.id)).toEqual({ retryInMs: 60_000 });
      expect(promotions.status(p.id)).toBe(S.Waiting);
    });

    it('goes back to approved when the wait is over, which starts the copy (and the gate) again', async () => {
      const { service, promotions, time } = approvals(0);
      const p = held(promotions);
      time.now = NOW + 60_000;
      expect(await service.release(p.id)).toBeNull();
      expect(promotions.status(p.id)).toBe(S.Approved);
      expect(promotions.history.at(-1)).toMatchObject({ job: JobName.Promote });
      expect(promotions.rows.get(p.id)).toMatchObject({ waitingFor: null, waitingUntil: null });
    });

    it('goes back to awaiting approval when its approvals expired while it waited', async () => {
      const { service, promotions, time, waiting } = approvals(1, { expiresAfter: '1h' });
      const p = waiting();
      await service.decide(p.id, approve(p.digest), alice);
      expect(promotions.status(p.id)).toBe(S.Approved);
      promotions.rows.get(p.id)!.status = S.Waiting; // the gate held it, as the promoter would
      promotions.rows.get(p.id)!.waitingUntil = new Date(NOW + 2 * 3600_000);
      time.now = NOW + 2 * 3600_000;
      await service.release(p.id);
      expect(promotions.status(p.id)).toBe(S.AwaitingApproval);
      expect(promotions.rows.get(p.id)?.reasons).toEqual([
        'approvals expired while it waited: approve it again',
      ]);
      // Alice's expired approval no longer stands in her way: she may approve again.
      await service.decide(p.id, approve(p.digest), alice);
      expect(promotions.status(p.id)).toBe(S.Approved);
    });

    it('keeps approvals that have not expired', async () => {
      const { service, promotions, time, waiting } = approvals(1, { expiresAfter: '24h' });
      const p = waiting();
      await service.decide(p.id, approve(p.digest), alice);
      promotions.rows.get(p.id)!.status = S.Waiting;
      promotions.rows.get(p.id)!.waitingUntil = new Date(NOW + 3600_000);
      time.now = NOW + 3600_000;
      await service.release(p.id);
      expect(promotions.status(p.id)).toBe(S.Approved);
    });

    it('lets break-glass override a freeze (not a soak), saying so in the audit trail', async () => {
      const { service, promotions, audit } = approvals(1);
      const operator = person('oncall', [{ role: Role.BreakGlass, environment: 'production' }]);
      const soaking = held(promotions);
      await expect(service.breakGlass(soaking.id, 'hotfix', operator)).rejects.toMatchObject({
        code: ApprovalRefusal.NotAwaitingApproval,
      });
      const frozen = held(promotions, { waitingFor: 'freeze' });
      await service.breakGlass(frozen.id, 'hotfix', operator);
      expect(promotions.status(frozen.id)).toBe(S.Approved);
      expect(promotions.history.at(-1)).toMatchObject({
        from: S.Waiting,
        breakGlass: true,
        job: JobName.Promote,
      });
      expect(promotions.history.at(-1)?.reason).toMatch(/freeze overridden/);
      expect(audit.at(-1)).toMatchObject({
        action: 'promotion.break_glass',
        details: { freezeOverridden: true, severity: 'critical' },
      });
    });
  });
});
