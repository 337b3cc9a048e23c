import { Logger } from '@nestjs/common';
import { ApprovalRefusal, PromotionStatus as S } from '../../domain';
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
import { type PromotionService } from '../promotion/promotion.service';
import { fakeTx, InMemoryPromotions } from '../testing/in-memory-promotions';
import { ApprovalDecision, type ApprovalEntity } from './approval.entity';
import { type ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';

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

function approvals(required = 1) {
  const promotions = new InMemoryPromotions();
  const decisions: ApprovalEntity[] = [];
  const audit: Array<{ action: string; details: Record<string, unknown> }> = [];
  const reviews: unknown[] = [];
  /** Wake-ups seen while a transaction was still open: must stay empty. */
  const wakesBeforeCommit: string[][] = [];
  const grantsOf = new Map([alice, bob, requester].map((c) => [c.actor.subject, c.grants]));
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
      reviews.push(row);
      return row;
    },
    awaiting: async () =>
      [...promotions.rows.values()]
        .filter((p) => p.status === S.AwaitingApproval)
        .map((p) => ({
          promotion: { ...p },
          environmentName: 'production',
          policyVersion: 1,
          decisions: decisions.filter((d) => d.promotionId === p.id),
          evidence: [{ kind: 'signatures', status: 'pass', summary: 'signed' }],
        })),
  } as unknown as ApprovalRepository;
  const policies = {
    byId: async () => ({ document: { approvals: { required } } }),
  } as unknown as PolicyService;
  const environments = {
    byIdName: async () => 'production',
    byNameCached: async (name: string) => ({ id: 'env-1', name }),
  } as unknown as EnvironmentService;
  const links = {
    namesOf: async (c: { key: string }) => ({ person: c.key, aliases: [c.key] }),
    personOf: async (identity: string) => identity,
  } as unknown as IdentityLinkService;
  const identity = {
    currentGeneration: async () => 1,
    prepare: async () => undefined,
    grantsFor: async (s: { subject: string }) => grantsOf.get(s.subject) ?? [],
  } as unknown as IdentityService;
  const promotionService = {
    entity: async (id: string) => promotions.repository.findById(id),
    view: (p: { id: string; status: S }, environment: string) => ({
      id: p.id,
      status: p.status,
      environment,
    }),
  } as unknown as PromotionService;
  const auditRepo = {
    record: async (e: { action: string; details: Record<string, unknown> }) => void audit.push(e),
  } as unknown as AuditRepository;
  const clock = { now: () => NOW } as Clock;
  const waivers = { lapsedFor: async () => [] } as unknown as WaiverService;
  const service = new ApprovalService(
    repo,
    policies,
    environments,
    links,
    identity,
    promotionService,
    promotions.asStateMachine,
    auditRepo,
    clock,
    waivers,
  );
  const waiting = () => promotions.add({ status: S.AwaitingApproval, requesterKey: requester.key });
  return { service, promotions, decisions, audit, reviews, wakesBeforeCommit, waiting };
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
});
