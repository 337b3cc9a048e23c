import { Injectable, Logger } from '@nestjs/common';
import {
  type ApprovalCount,
  ApprovalRefusal,
  type ApprovalRequirements,
  approvalRequirements,
  policyFor,
  countApprovals,
  type Decider,
  DomainError,
  ErrorCode,
  isProposer,
  notFound,
  PromotionStatus,
  refusalFor,
  type RequestParties,
} from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { type Tx } from '../database/unit-of-work';
import { EnvironmentService } from '../environment/environment.service';
import { type Actor, actorKey, SYSTEM_ACTOR } from '../identity/actor';
import { type Caller, hasRole } from '../identity/caller';
import { IdentityLinkService } from '../identity/identity-link.service';
import { IdentityService } from '../identity/identity.service';
import { Role } from '../identity/role-binding.entity';
import { PolicyService } from '../policy/policy.service';
import { PromotionView } from '../promotion/promotion.dto';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { PromotionRepository } from '../promotion/promotion.repository';
import { PromotionStateMachine } from '../promotion/promotion-state-machine';
import { WebhookService } from '../webhook/webhook.service';
import { WaiverService } from '../waiver/waiver.service';
import {
  type BreakGlassReviewView,
  type DecideDto,
  type DecisionView,
  type PendingApprovalView,
} from './approval.dto';
import { ApprovalDecision, type ApprovalEntity } from './approval.entity';
import { ApprovalRepository } from './approval.repository';
import { type BreakGlassReviewEntity } from './break-glass-review.entity';

/** Overdue requests expired per statement, and how long one sweep may keep going. */
const EXPIRY_BATCH = 200;
const EXPIRY_BUDGET_MS = 20_000;

const refuse = (code: ApprovalRefusal, message: string, details: Record<string, unknown> = {}): DomainError =>
  new DomainError(code as unknown as ErrorCode, message, { refusal: code, ...details });

const MESSAGES: Record<ApprovalRefusal, string> = {
  [ApprovalRefusal.SelfApproval]: 'you requested this promotion; someone else must decide it',
  [ApprovalRefusal.CommitAuthor]:
    'you are the author or actor of the change being promoted; someone else must decide it',
  [ApprovalRefusal.NotApprover]: 'you do not hold the approver role for this environment',
  [ApprovalRefusal.NotInRuleGroups]: 'you are in none of the groups the policy asks approvers to come from',
  [ApprovalRefusal.AlreadyDecided]: 'you have already decided on this promotion',
  [ApprovalRefusal.NotAwaitingApproval]: 'this promotion is not awaiting approval',
  [ApprovalRefusal.StaleReview]:
    'the promotion changed since you reviewed it (digest or policy); review it again',
  [ApprovalRefusal.CommentRequired]: 'a reject needs a comment saying why',
};

/**
 * Approvals with separation of duties, expiry and break-glass. Every decision locks the promotion
 * row, so concurrent decisions are counted one at a time and the request is approved exactly once.
 */
@Injectable()
export class ApprovalService {
  private readonly logger = new Logger(ApprovalService.name);

  constructor(
    private readonly repo: ApprovalRepository,
    private readonly policies: PolicyService,
    private readonly environments: EnvironmentService,
    private readonly links: IdentityLinkService,
    private readonly identity: IdentityService,
    private readonly promotions: PromotionRepository,
    private readonly stateMachine: PromotionStateMachine,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    private readonly webhooks: WebhookService,
    private readonly waivers: WaiverService,
  ) {}

  async decide(promotionId: string, dto: DecideDto, caller: Caller): Promise<DecisionView> {
    try {
      return await this.decideOnce(promotionId, dto, caller);
    } catch (e) {
      // Only a caller who holds some role leaves a durable trace: a token that merely verifies (any
      // workload of a trusted CI issuer) must not be able to grow the append-only trail.
      const refusal =
        e instanceof DomainError && (Object.values(ApprovalRefusal) as string[]).includes(e.code);
      if (refusal && caller.grants.length > 0) {
        // A refused decision is part of the record too (the transaction that tried it rolled back).
        await this.audit.record({
          actor: caller.actor,
          action: 'approval.refused',
          subjectType: 'promotion',
          subjectId: promotionId,
          details: { decision: dto.decision, refusal: e.code },
        });
      }
      throw e;
    }
  }

  private async decideOnce(promotionId: string, dto: DecideDto, caller: Caller): Promise<DecisionView> {
    // Everything that does not change during a promotion's life is read before the transaction,
    // so the transaction holds one connection and the row lock, and nothing else.
    const before = await this.promotion(promotionId);
    const environment = await this.environments.byIdName(before.environmentId);
    const req = await this.requirements(before);
    // Roles and links as committed now, loaded now: counting inside the transaction then needs no
    // other connection.
    const generation = await this.identity.currentGeneration();
    await this.identity.prepare(generation);
    const parties = await this.parties(before, generation);
    const who = {
      ...(await this.decider(caller.actor, caller.groups, generation)),
      isApprover: hasRole(caller, Role.Approver, environment),
    };
    return this.repo.transaction(async (tx) => {
      const m = tx.manager;
      const p = await this.repo.lockPromotion(promotionId, m);
      if (!p) throw notFound('promotion', promotionId);
      if (
        dto.digest !== p.digest ||
        (dto.policySha256 !== undefined && dto.policySha256 !== p.policySha256)
      ) {
        throw refuse(ApprovalRefusal.StaleReview, MESSAGES[ApprovalRefusal.StaleReview], {
          digest: p.digest,
          policySha256: p.policySha256,
        });
      }
      if (p.status !== PromotionStatus.AwaitingApproval) {
        throw refuse(
          ApprovalRefusal.NotAwaitingApproval,
          `${MESSAGES[ApprovalRefusal.NotAwaitingApproval]} (it is ${p.status})`,
          { status: p.status },
        );
      }
      const refusal = refusalFor(who, parties, req, dto.decision);
      if (refusal) throw refuse(refusal, MESSAGES[refusal]);
      if (dto.decision === ApprovalDecision.Reject && !dto.comment?.trim()) {
        throw refuse(ApprovalRefusal.CommentRequired, MESSAGES[ApprovalRefusal.CommentRequired]);
      }
      const now = this.clock.now();
      const earlier = (await this.repo.decisions(p.id, m)).filter((d) => this.counts(d, p));
      const mine = earlier.filter((d) => d.person === who.person);
      const stillValid = mine.filter((d) => !this.isExpired(d, req, now));
      if (stillValid.length > 0)
        throw refuse(ApprovalRefusal.AlreadyDecided, MESSAGES[ApprovalRefusal.AlreadyDecided]);

      const approval = await this.repo.insert(
        {
          promotionId: p.id,
          decision: dto.decision,
          approver: caller.actor,
          approverKey: caller.key,
          person: who.person,
          groups: [...caller.groups],
          comment: dto.comment ?? '',
          digest: p.digest,
          policySha256: p.policySha256,
          // The rules' clock, so expiry is judged on one time line.
          createdAt: new Date(now),
        },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: `approval.${dto.decision}`,
          subjectType: 'promotion',
          subjectId: p.id,
          details: {
            person: who.person,
            comment: approval.comment,
            digest: p.digest,
            policySha256: p.policySha256,
          },
        },
        m,
      );

      const approvals = [...earlier, approval].filter((d) => d.decision === ApprovalDecision.Approve);
      const tally = await this.count(approvals, environment, parties, req, now, generation);
      let status: PromotionStatus = p.status;
      if (dto.decision === ApprovalDecision.Reject) {
        status = PromotionStatus.Rejected;
        await this.move(tx, p.id, status, caller.actor, `rejected by ${caller.key}`, [
          `rejected by ${caller.key}: ${approval.comment}`,
        ]);
      } else if (tally.satisfied) {
        const lapsed = await this.waivers.lapsedFor(p.id, m);
        if (lapsed.length > 0) {
          // A waiver the checks relied on has been revoked or has expired: what it let through
          // fails again, and the request is rejected rather than approved on a lapsed exception.
          status = PromotionStatus.Rejected;
          await this.move(
            tx,
            p.id,
            status,
            caller.actor,
            'a waiver the checks relied on no longer applies',
            lapsed.map((l) => `${l.check}: waiver ${l.id} was ${l.why}; what it let pass fails again`),
          );
        } else {
          status = PromotionStatus.Approved;
          const by = Object.values(tally.assignment).flat();
          await this.move(tx, p.id, status, caller.actor, `approvals complete: ${by.join(', ')}`, [
            `approved by ${by.join(', ')}`,
          ]);
        }
      }
      return { decision: dto.decision, status, tally };
    });
  }

  /**
   * What the caller may decide now, newest first, with the evidence and current tally. One
   * statement reads the page (with each row's policy rules, decisions and evidence); everything
   * per row after it is computed from identities and links read once, at one generation.
   */
  async pending(caller: Caller, limit: number): Promise<PendingApprovalView[]> {
    // A grant may name an environment that does not exist (yet): it matches no row.
    const environments = caller.grants.some((g) => g.role === Role.Approver && g.environment === null)
      ? null
      : caller.grants
          .filter((g) => g.role === Role.Approver && g.environment !== null)
          .map((g) => g.environment as string);
    if (environments !== null && environments.length === 0) return [];
    const generation = await this.identity.currentGeneration();
    await this.identity.prepare(generation);
    const decider = await this.decider(caller.actor, caller.groups, generation);
    const now = this.clock.now();
    const out: PendingApprovalView[] = [];
    for (const row of await this.repo.awaiting(environments, Math.min(limit * 4, 400))) {
      const p = row.promotion;
      // A rollback needs the approvals of the policy's rollback rules.
      const req = approvalRequirements(
        policyFor({ approvals: row.approvals, rollback: row.rollback }, p.kind).approvals,
      );
      const who = { ...decider, isApprover: hasRole(caller, Role.Approver, row.environmentName) };
      const parties = await this.parties(p, generation);
      if (refusalFor(who, parties, req, 'approve')) continue;
      const decisions = row.decisions.filter((d) => this.counts(d, p));
      if (decisions.some((d) => d.person === who.person && !this.isExpired(d, req, now))) continue;
      out.push({
        ...PromotionView.of(p, row.environmentName, row.policyVersion),
        tally: await this.count(
          decisions.filter((d) => d.decision === ApprovalDecision.Approve),
          row.environmentName,
          parties,
          req,
          now,
          generation,
        ),
        evidence: row.evidence,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Promotes without approvals in an emergency: loud audit event and a review that stays open. */
  async breakGlass(promotionId: string, reason: string, caller: Caller): Promise<BreakGlassReviewView> {
    const decider = await this.decider(caller.actor, caller.groups);
    const environment = await this.environments.byIdName((await this.promotion(promotionId)).environmentId);
    const review = await this.repo.transaction(async (tx) => {
      const m = tx.manager;
      const p = await this.repo.lockPromotion(promotionId, m);
      if (!p) throw notFound('promotion', promotionId);
      if (!hasRole(caller, Role.BreakGlass, environment)) {
        throw new DomainError(
          ErrorCode.Forbidden,
          `break-glass needs the break_glass role for ${environment}`,
          {
            environment,
          },
        );
      }
      // From awaiting_approval: the checks have run and passed; only the sign-offs are skipped. Or
      // from waiting for a freeze: the freeze is overridden (the promoter says so when it starts).
      // Never a soak: that is the policy's evidence, not a sign-off.
      const freezeHeld = p.status === PromotionStatus.Waiting && p.waitingFor === 'freeze';
      if (p.status !== PromotionStatus.AwaitingApproval && !freezeHeld) {
        throw refuse(
          ApprovalRefusal.NotAwaitingApproval,
          `break-glass skips approvals or a freeze only; this promotion is ${p.status}${p.waitingFor ? ` for the ${p.waitingFor}` : ''}`,
          {
            status: p.status,
          },
        );
      }
      const lapsed = await this.waivers.lapsedFor(p.id, m);
      if (lapsed.length > 0) {
        throw new DomainError(
          ErrorCode.Conflict,
          `break-glass skips approvals, never checks: waiver(s) ${lapsed.map((l) => `${l.id} (${l.check}, ${l.why})`).join(', ')} no longer apply`,
          { waivers: lapsed },
        );
      }
      await this.move(
        tx,
        p.id,
        PromotionStatus.Approved,
        caller.actor,
        `BREAK-GLASS by ${caller.key}${freezeHeld ? ' (freeze overridden)' : ''}: ${reason}`,
        [`break-glass by ${caller.key}: ${reason}`],
        true,
        p.status,
      );
      const opened = await this.repo.insertReview(
        { promotionId: p.id, openedBy: caller.actor, openedByPerson: decider.person, reason },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'promotion.break_glass',
          subjectType: 'promotion',
          subjectId: p.id,
          details: {
            severity: 'critical',
            reason,
            environment,
            digest: p.digest,
            reviewId: opened.id,
            ...(freezeHeld ? { freezeOverridden: true } : {}),
          },
        },
        m,
      );
      return opened;
    });
    this.logger.error({
      msg: 'BREAK-GLASS promotion: approvals skipped',
      promotionId,
      by: caller.key,
      reason,
    });
    return this.reviewView(review);
  }

  async reviews(openOnly: boolean): Promise<BreakGlassReviewView[]> {
    return (await this.repo.reviews(openOnly)).map((r) => this.reviewView(r));
  }

  async signOff(reviewId: string, comment: string, caller: Caller): Promise<BreakGlassReviewView> {
    const decider = await this.decider(caller.actor, caller.groups);
    const found = await this.repo.review(reviewId);
    if (!found) throw notFound('break-glass review', reviewId);
    // The review is of a promotion into one environment: only its approvers and admins sign it off.
    const environment = await this.environments.byIdName(
      (await this.promotion(found.promotionId)).environmentId,
    );
    if (!hasRole(caller, Role.Approver, environment) && !hasRole(caller, Role.Admin, environment)) {
      throw new DomainError(
        ErrorCode.Forbidden,
        `signing off a break-glass review needs the approver or admin role for ${environment}`,
        { environment },
      );
    }
    await this.repo.transaction(async ({ manager: m }) => {
      const r = await this.repo.lockReview(reviewId, m);
      if (!r) throw notFound('break-glass review', reviewId);
      if (r.signedOffAt) throw new DomainError(ErrorCode.Conflict, 'this review is already signed off', {});
      // The one who broke the glass as recorded then, and as the links say now: a link made since
      // must not let them sign off their own review from another account.
      const openedBy = actorKey(r.openedBy);
      const breaker = [r.openedByPerson, openedBy, await this.links.personOf(openedBy)];
      if (isProposer(decider, breaker)) {
        throw refuse(
          ApprovalRefusal.SelfApproval,
          'the person who broke the glass cannot sign off the review',
        );
      }
      await this.repo.signOff(r.id, caller.actor, comment, m);
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'break_glass.signed_off',
          subjectType: 'promotion',
          subjectId: r.promotionId,
          details: { reviewId: r.id, comment },
        },
        m,
      );
      await this.webhooks.recordAction(
        'break_glass.signed_off',
        {
          environment,
          subjectType: 'promotion',
          subjectId: r.promotionId,
          facts: {
            actor: caller.actor,
            details: { reviewId: r.id, promotionId: r.promotionId, environment },
          },
        },
        m,
      );
    });
    this.webhooks.announced();
    const after = await this.repo.review(reviewId);
    if (!after) throw notFound('break-glass review', reviewId);
    return this.reviewView(after);
  }

  /** Moves requests that waited past their policy's pending timeout to `expired`. */
  /**
   * Expires every request that waited past its policy's pending timeout: per pinned policy version,
   * the oldest first, a bounded batch per statement, until none is left or the time budget is spent
   * (the next sweep carries on).
   */
  async expireOverdue(budgetMs = EXPIRY_BUDGET_MS): Promise<number> {
    const deadline = Date.now() + budgetMs;
    let expired = 0;
    for (const versionId of await this.repo.awaitingPolicyVersions()) {
      const timeout = approvalRequirements(
        (await this.policies.byId(versionId)).document.approvals,
      ).pendingTimeoutSeconds;
      if (timeout === null) continue;
      for (;;) {
        const cutoff = new Date(this.clock.now() - timeout * 1000);
        const ids = await this.repo.awaitingSince(versionId, cutoff, EXPIRY_BATCH);
        for (const id of ids) if (await this.expire(id, timeout)) expired += 1;
        if (ids.length < EXPIRY_BATCH) break;
        if (Date.now() > deadline) return expired;
      }
    }
    return expired;
  }

  /** False when someone decided (or cancelled) first. */
  private async expire(id: string, timeoutSeconds: number): Promise<boolean> {
    try {
      await this.stateMachine.transition({
        promotionId: id,
        from: PromotionStatus.AwaitingApproval,
        to: PromotionStatus.Expired,
        actor: SYSTEM_ACTOR,
        reason: `nobody decided within ${timeoutSeconds} s`,
        reasons: [`expired: not decided within the policy's pending timeout`],
      });
      return true;
    } catch (e) {
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) return false;
      throw e;
    }
  }

  private async move(
    tx: Tx,
    id: string,
    to: PromotionStatus,
    actor: Actor,
    reason: string,
    reasons: string[],
    breakGlass = false,
    from: PromotionStatus = PromotionStatus.AwaitingApproval,
  ): Promise<void> {
    await this.stateMachine.transition({ promotionId: id, from, to, actor, reason, reasons, breakGlass }, tx);
  }

  /**
   * The release job: a promotion whose wait (soak, freeze) has ended goes back to approved, where
   * the copy job asks the gate again — or back to awaiting_approval when the approvals it had have
   * expired meanwhile (the policy's `expiresAfter` still applies to a promotion that waited).
   * Returns how long to wait still when the job came early (a requeue, or the rules' clock).
   */
  async release(promotionId: string): Promise<{ retryInMs: number } | null> {
    const p = await this.promotion(promotionId);
    if (p.status !== PromotionStatus.Waiting) return null; // released, cancelled or broken meanwhile
    const now = this.clock.now();
    const until = p.waitingUntil ? new Date(p.waitingUntil).getTime() : now;
    if (now < until) return { retryInMs: until - now };
    const approved = p.breakGlass || (await this.stillApproved(p, now));
    try {
      await this.stateMachine.transition({
        promotionId: p.id,
        from: PromotionStatus.Waiting,
        to: approved ? PromotionStatus.Approved : PromotionStatus.AwaitingApproval,
        actor: SYSTEM_ACTOR,
        reason: approved
          ? `the wait for the ${p.waitingFor ?? 'gate'} ended`
          : `the wait for the ${p.waitingFor ?? 'gate'} ended, but its approvals expired meanwhile`,
        reasons: approved ? [] : ['approvals expired while it waited: approve it again'],
      });
    } catch (e) {
      if (!(e instanceof DomainError && e.code === ErrorCode.Conflict)) throw e;
    }
    return null;
  }

  /** Whether the approvals given still satisfy the pinned policy now (expiry and roles as today). */
  private async stillApproved(p: PromotionEntity, now: number): Promise<boolean> {
    const req = await this.requirements(p);
    const environment = await this.environments.byIdName(p.environmentId);
    const generation = await this.identity.currentGeneration();
    await this.identity.prepare(generation);
    const approvals = (await this.repo.decisions(p.id)).filter(
      (d) => this.counts(d, p) && d.decision === ApprovalDecision.Approve,
    );
    const parties = await this.parties(p, generation);
    return (await this.count(approvals, environment, parties, req, now, generation)).satisfied;
  }

  /** The stored row (the promotion repository's, not the API's view of it). */
  private async promotion(id: string): Promise<PromotionEntity> {
    const p = await this.promotions.findById(id);
    if (!p) throw notFound('promotion', id);
    return p;
  }

  private async requirements(p: PromotionEntity): Promise<ApprovalRequirements> {
    // A rollback needs the approvals of the policy's rollback rules.
    return approvalRequirements(
      policyFor((await this.policies.byId(p.policyVersionId)).document, p.kind).approvals,
    );
  }

  /** An approval counts only for the digest and policy hash it was given on. */
  private counts(d: ApprovalEntity, p: PromotionEntity): boolean {
    return d.digest === p.digest && d.policySha256 === p.policySha256;
  }

  private isExpired(d: ApprovalEntity, req: ApprovalRequirements, now: number): boolean {
    return (
      d.decision === ApprovalDecision.Approve &&
      req.expiresAfterSeconds !== null &&
      now - d.createdAt.getTime() > req.expiresAfterSeconds * 1000
    );
  }

  /**
   * Counts the approvals as their approvers stand now: each identity as recorded (issuer, subject,
   * the groups its token carried) is matched against today's role bindings, trusted issuers and
   * identity links, and must still pass the approval rules (countApprovals), so a role removed
   * after an approval was given takes that approval out of every later count.
   */
  private async count(
    approvals: ApprovalEntity[],
    environment: string,
    parties: RequestParties,
    req: ApprovalRequirements,
    now: number,
    generation: number,
  ): Promise<ApprovalCount> {
    const standing = await Promise.all(
      approvals.map(async (a) => {
        const grants = await this.identity.grantsFor(
          { issuer: a.approver.issuer, subject: a.approver.subject, groups: a.groups },
          generation,
        );
        const decider = await this.decider(a.approver, a.groups, generation);
        return {
          decider: { ...decider, isApprover: hasRole({ grants }, Role.Approver, environment) },
          at: a.createdAt.getTime(),
        };
      }),
    );
    return countApprovals(standing, parties, req, now);
  }

  /** The person deciding and the names they go by (see IdentityLinkService.namesOf). */
  private async decider(
    actor: Actor,
    groups: readonly string[],
    generation?: number,
  ): Promise<Omit<Decider, 'isApprover'>> {
    return {
      ...(await this.links.namesOf({ key: actorKey(actor), actor }, generation)),
      groups: [...groups],
    };
  }

  private async parties(p: PromotionEntity, generation?: number): Promise<RequestParties> {
    const handles = [p.claims.actor].filter((h): h is string => typeof h === 'string' && h.length > 0);
    return {
      requesterPerson: await this.links.personOf(p.requesterKey, generation),
      authorPersons: await Promise.all(handles.map((h) => this.links.personOf(`handle:${h}`, generation))),
    };
  }

  private reviewView(r: BreakGlassReviewEntity): BreakGlassReviewView {
    return {
      id: r.id,
      promotionId: r.promotionId,
      openedBy: actorKey(r.openedBy),
      reason: r.reason,
      openedAt: r.openedAt.toISOString(),
      signedOffBy: r.signedOffBy ? actorKey(r.signedOffBy) : null,
      signedOffAt: r.signedOffAt ? r.signedOffAt.toISOString() : null,
      signOffComment: r.signOffComment,
    };
  }
}
