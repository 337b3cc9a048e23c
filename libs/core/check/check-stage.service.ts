import { Inject, Injectable, Logger } from '@nestjs/common';
import { CheckStatus, DomainError, ErrorCode, evaluateChecks, PromotionStatus } from '../../domain';
import { EnvironmentService } from '../environment/environment.service';
import { SYSTEM_ACTOR } from '../identity/actor';
import { PolicyService } from '../policy/policy.service';
import { PromotionRepository } from '../promotion/promotion.repository';
import { PromotionStateMachine } from '../promotion/promotion-state-machine';
import { CHECK_KINDS, type CheckKind, type CheckResult } from './check-kind';
import { CheckRepository } from './check.repository';

/** A check could not run; the job is retried with backoff. Never counts as a pass. */
export class CheckCouldNotRun extends Error {
  constructor(readonly kinds: string[]) {
    super(`checks could not run: ${kinds.join(', ')}`);
  }
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
  ) {}

  async run(promotionId: string, lastAttempt: boolean): Promise<void> {
    let p = await this.promotions.findById(promotionId);
    if (!p) return;
    if (p.status === PromotionStatus.Received) {
      await this.move(promotionId, PromotionStatus.Received, PromotionStatus.Checking, 'check stage started');
      p = await this.promotions.findById(promotionId);
      if (!p) return;
    }
    if (p.status !== PromotionStatus.Checking) return; // done already, or cancelled meanwhile

    const policy = (await this.policies.byId(p.policyVersionId)).document;
    const sources = (await this.environments.byIdCached(p.environmentId)).sources;
    const shared = new Map<string, Promise<unknown>>();
    const results: Array<CheckResult & { kind: string }> = [];
    for (const kind of this.kinds.filter((k) => k.applies(policy))) {
      let result: CheckResult;
      try {
        result = await kind.run({ promotion: p, policy, sources, shared });
      } catch (e) {
        this.logger.warn({ msg: 'check could not run', kind: kind.kind, promotionId, error: String(e) });
        result = { status: CheckStatus.Error, summary: `could not run: ${String(e)}`, findings: [] };
      }
      await this.checks.upsert(promotionId, kind.kind, result);
      results.push({ ...result, kind: kind.kind });
    }

    // A check that could not run (a registry down) is retried, unless another already refuses the
    // image: a failure, or a check that can never pass on it (a tar bomb). Retrying would not
    // change that answer, and the request is rejected now with every reason.
    const transient = results.filter((r) => r.status === CheckStatus.Error && !r.permanent);
    const refused = results.some(
      (r) => r.status === CheckStatus.Fail || (r.status === CheckStatus.Error && r.permanent),
    );
    if (transient.length > 0 && !refused) {
      if (!lastAttempt) throw new CheckCouldNotRun(transient.map((r) => r.kind));
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
    const to =
      outcome.decision === 'approved'
        ? PromotionStatus.Approved
        : outcome.decision === 'awaiting_approval'
          ? PromotionStatus.AwaitingApproval
          : PromotionStatus.Rejected;
    await this.move(promotionId, PromotionStatus.Checking, to, outcome.reasons.join('; '), outcome.reasons);
  }

  /** The job gave up (stalled too often, or failed unexpectedly on its last attempt). */
  async abandon(promotionId: string, reason: string): Promise<void> {
    await this.move(
      promotionId,
      PromotionStatus.Checking,
      PromotionStatus.Failed,
      `checks abandoned: ${reason}`,
      [`checks could not complete: ${reason}; retry it`],
    );
  }

  /** A conflict means another run (or a cancel) got there first: not an error for the worker. */
  private async move(
    id: string,
    from: PromotionStatus,
    to: PromotionStatus,
    reason: string,
    reasons?: string[],
  ): Promise<void> {
    try {
      await this.stateMachine.transition({ promotionId: id, from, to, actor: SYSTEM_ACTOR, reason, reasons });
    } catch (e) {
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) return;
      throw e;
    }
  }
}
