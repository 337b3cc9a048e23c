import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CheckStatus,
  CHECK_DECISION_STATUS,
  classifyFailure,
  DomainError,
  ErrorCode,
  evaluateChecks,
  Failure,
  applyWaivers,
  type PolicyDocument,
  policyFor,
  PromotionStatus,
  type SourceRule,
  type WaiverRule,
  waiversAllowedBy,
} from '../../domain';
import { EnvironmentService } from '../environment/environment.service';
import { SYSTEM_ACTOR } from '../identity/actor';
import { PolicyService } from '../policy/policy.service';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { PromotionRepository } from '../promotion/promotion.repository';
import { PromotionStateMachine } from '../promotion/promotion-state-machine';
import { CHECK_KINDS, type CheckKind, type CheckResult, type CheckSubject } from './check-kind';
import { WaiverService } from '../waiver/waiver.service';
import { CheckRepository } from './check.repository';
import { WebhookService } from '../webhook/webhook.service';
import { promotionEventFacts } from '../webhook/promotion-event-facts';

/** A check's result when its run threw: classified, so a permanent cause rejects with the reason. */
function thrownResult(error: unknown): CheckResult {
  const failure = classifyFailure(error);
  return failure.permanent
    ? {
        status: CheckStatus.Error,
        summary: `cannot be checked: ${failure.message}`,
        findings: [],
        blocking: [failure.message],
        failure,
      }
    : { status: CheckStatus.Error, summary: `could not run: ${failure.message}`, findings: [], failure };
}

export type KindResult = CheckResult & { kind: string };

/**
 * The checks that could not run (a registry down), when nothing else already refuses the image: a
 * failure, or a check that can never pass on it (a tar bomb, a blob that does not match its
 * digest). Those are retried; with a refusal, retrying would not change the answer, and the
 * request is rejected now with every reason. Empty: the results decide.
 */
export function transientOnly(results: readonly KindResult[]): KindResult[] {
  const transient = results.filter((r) => r.status === CheckStatus.Error && !r.failure?.permanent);
  const refused = results.some(
    (r) => r.status === CheckStatus.Fail || (r.status === CheckStatus.Error && r.failure?.permanent),
  );
  return refused ? [] : transient;
}

/**
 * The worker's check stage followed by the evaluation stage. Reloads the promotion, acts only on
 * the status it expects, and is safe to run twice or after a crash at any point.
 */
@Injectable()
export class CheckStageService {
  private readonly logger = new Logger(CheckStageService.name);

  constructor(
    @Inject(CHECK_KINDS) private readonly kinds: CheckKind[],
    private readonly promotions: PromotionRepository,
    private readonly checks: CheckRepository,
    private readonly policies: PolicyService,
    private readonly stateMachine: PromotionStateMachine,
    private readonly environments: EnvironmentService,
    private readonly webhooks: WebhookService,
    private readonly waivers: WaiverService,
  ) {}

  /**
   * Stores a check's result; secrets found are also an event (`secret.found`: rule ids and a
   * count, never the secret), written in the same transaction as the result.
   */
  private async recordResult(p: PromotionEntity, kind: string, result: CheckResult): Promise<void> {
    const found = kind === 'secrets' && result.status === CheckStatus.Fail;
    if (!found) return this.checks.upsert(p.id, kind, result);
    const blocking = (result.findings as Array<{ blocking?: boolean; rule?: string }>).filter(
      (f) => f.blocking === true,
    );
    const environment = await this.environments.byIdName(p.environmentId);
    await this.stateMachine.transaction(async (tx) => {
      await this.checks.upsert(p.id, kind, result, tx.manager);
      await this.webhooks.recordAction(
        'check.secrets_found',
        {
          environment,
          subjectType: 'promotion',
          subjectId: p.id,
          facts: {
            actor: SYSTEM_ACTOR,
            promotion: { ...promotionEventFacts(p), environment },
            details: {
              findings: blocking.length,
              rules: [...new Set(blocking.map((f) => f.rule ?? 'unknown'))].sort(),
            },
          },
        },
        tx.manager,
      );
    });
    this.webhooks.announced();
  }

  async run(promotionId: string, lastAttempt: boolean): Promise<void> {
    // The usual case first: a received promotion, moved (and read back) by one statement; only a
    // rerun (already checking) or a promotion that went elsewhere meanwhile reads it separately.
    const p =
      (await this.stateMachine.transitionIfIn({
        promotionId,
        from: PromotionStatus.Received,
        to: PromotionStatus.Checking,
        actor: SYSTEM_ACTOR,
        reason: 'check stage started',
      })) ?? (await this.promotions.findById(promotionId));
    if (p?.status !== PromotionStatus.Checking) return; // gone, done already, or cancelled meanwhile

    // A rollback is checked under its own rules (signatures again, scans only on rescan).
    const policy = policyFor((await this.policies.byId(p.policyVersionId)).document, p.kind);
    const sources = (await this.environments.byIdCached(p.environmentId)).sources;
    // Waivers only ever change a result, and only where the policy lets them: with no check to run
    // or no waivers section, there is nothing to read.
    const waivers =
      policy.waivers && this.kindsFor(policy).length > 0
        ? await this.waivers.inForceFor(p.environmentId, {
            repository: p.sourceRepository,
            digest: p.digest,
          })
        : [];
    const results = await this.runKinds(p, policy, sources, waivers, (kind, result) =>
      this.recordResult(p, kind, result),
    );

    const transient = transientOnly(results);
    if (transient.length > 0) {
      if (!lastAttempt) {
        throw Failure.transient(
          `checks could not run: ${transient.map((r) => `${r.kind}: ${r.summary}`).join('; ')}`,
        );
      }
      await this.move(
        promotionId,
        PromotionStatus.Checking,
        PromotionStatus.Failed,
        'checks could not run',
        transient.map((r) => `${r.kind}: ${r.summary}`),
      );
      return;
    }
    const outcome = evaluateChecks(policy, results);
    const to = CHECK_DECISION_STATUS[outcome.decision];
    await this.move(promotionId, PromotionStatus.Checking, to, outcome.reasons.join('; '), outcome.reasons);
  }

  /**
   * Runs every check kind the policy asks for, in order, on one image, sharing fetched evidence
   * between kinds. What a kind throws becomes its classified `error` result; the waivers in force
   * for the image then apply, as far as this policy lets them (a waived result names them). `each` sees every result as it is made
   * (the stage stores it; a dry run stores nothing).
   */
  async runKinds(
    subject: CheckSubject,
    policy: PolicyDocument,
    sources: readonly SourceRule[],
    waivers: readonly WaiverRule[],
    each?: (kind: string, result: CheckResult) => Promise<unknown>,
  ): Promise<KindResult[]> {
    const shared = new Map<string, Promise<unknown>>();
    const results: KindResult[] = [];
    const allowed = waiversAllowedBy(policy.waivers, waivers);
    for (const kind of this.kinds.filter((k) => k.applies(policy))) {
      let result: CheckResult;
      try {
        result = await kind.run({ promotion: subject, policy, sources, shared });
      } catch (e) {
        result = thrownResult(e);
        this.logger.warn({
          msg: 'check could not run',
          kind: kind.kind,
          digest: subject.digest,
          permanent: result.failure?.permanent,
          error: result.failure?.message,
        });
      }
      const judged = applyWaivers({ ...result, kind: kind.kind }, allowed);
      if (each) await each(kind.kind, judged);
      results.push(judged);
    }
    return results;
  }

  /** The kinds the policy asks for, in the order the stage runs them. */
  kindsFor(policy: PolicyDocument): string[] {
    return this.kinds.filter((k) => k.applies(policy)).map((k) => k.kind);
  }

  /**
   * The job gave up (stalled too often, failed unexpectedly on its last attempt, or met a
   * permanent failure, which no retry mends).
   */
  async abandon(promotionId: string, reason: string, permanent = false): Promise<void> {
    await this.move(
      promotionId,
      PromotionStatus.Checking,
      PromotionStatus.Failed,
      `checks abandoned: ${reason}`,
      [`checks could not complete: ${reason}${permanent ? '' : '; retry it'}`],
    );
  }

  /**
   * The promotion as moved, or null on a conflict: another run (or a cancel) got there first, which
   * is not an error for the worker.
   */
  private async move(
    id: string,
    from: PromotionStatus,
    to: PromotionStatus,
    reason: string,
    reasons?: string[],
  ): Promise<PromotionEntity | null> {
    try {
      return await this.stateMachine.transition({
        promotionId: id,
        from,
        to,
        actor: SYSTEM_ACTOR,
        reason,
        reasons,
      });
    } catch (e) {
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) return null;
      throw e;
    }
  }
}
