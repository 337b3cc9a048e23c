import { Injectable } from '@nestjs/common';
import { timeOrderedUuid } from '../common/time-ordered-id';
import { canonicalHash, DomainError, ErrorCode } from '../../domain';
import { EnvironmentService } from '../environment/environment.service';
import { actorKey } from '../identity/actor';
import { type Caller, hasRole } from '../identity/caller';
import { Role } from '../identity/role-binding.entity';
import { type PromotionDetailView } from './promotion.dto';
import { type PromotionEntity } from './promotion.entity';
import { PromotionRepository, type TagHistoryEntry } from './promotion.repository';
import { PromotionService } from './promotion.service';
import { PromotionStateMachine } from './promotion-state-machine';
import { type RollbackDto, type TagHistoryEntryView, type TagHistoryQuery } from './rollback.dto';

/** How far back a rollback may reach: the newest writes of one tag. */
const ROLLBACK_REACH = 200;

/**
 * Rollback: moves an environment's tag back to a digest Airlock promoted to it before, as a
 * promotion of kind `rollback` through the same lifecycle (checks and approvals as the policy's
 * rollback rules say, see libs/domain/rollback-policy.ts; a copy that finds every blob present).
 * Who may: a requester of the environment that may request the digest's repository (a CI job of
 * another repository may not), as for a promotion. Only what Airlock's own records say it put on
 * the tag may come back; anything else is rollback_target_unknown.
 */
@Injectable()
export class RollbackService {
  constructor(
    private readonly repo: PromotionRepository,
    private readonly environments: EnvironmentService,
    private readonly stateMachine: PromotionStateMachine,
    private readonly promotions: PromotionService,
  ) {}

  async request(environment: string, dto: RollbackDto, caller: Caller): Promise<PromotionDetailView> {
    const env = await this.environments.byNameCached(environment);
    if (!hasRole(caller, Role.Requester, env.name)) {
      throw new DomainError(ErrorCode.Forbidden, `you may not roll back in ${env.name}`, {
        environment: env.name,
      });
    }
    // One rollback of a tag at a time: a second click must not go back once more.
    const open = await this.repo.openRollback(env.id, dto.repository, dto.tag);
    if (open) {
      throw new DomainError(
        ErrorCode.Conflict,
        `rollback ${open} of ${dto.repository}:${dto.tag} in ${env.name} is still under way; follow it or cancel it first`,
        { environment: env.name, repository: dto.repository, tag: dto.tag, promotion: open },
      );
    }
    const history = await this.repo.tagHistory({
      environmentId: env.id,
      targetRepository: dto.repository,
      tag: dto.tag,
      limit: ROLLBACK_REACH,
    });
    const { from, to } = rollbackTarget(history, dto, env.name);
    this.promotions.assertRepositoryAllowed(
      env,
      { registry: to.sourceRegistry, repository: to.sourceRepository },
      caller,
    );
    const id = timeOrderedUuid();
    const metadata: Record<string, string> = dto.reason ? { reason: dto.reason } : {};
    const created = await this.stateMachine.create({
      id,
      environmentId: env.id,
      sourceRegistry: to.sourceRegistry,
      sourceRepository: to.sourceRepository,
      digest: to.digest,
      tag: dto.tag,
      targetRegistry: env.target.registry,
      targetRepository: dto.repository,
      requester: caller.actor,
      requesterKey: caller.key,
      claims: caller.claims,
      metadata,
      tokenIssuer: caller.tokenJti ? caller.actor.issuer : null,
      tokenJti: caller.tokenJti,
      idempotencyKey: null,
      requestHash: canonicalHash({ rollback: environment, ...dto }),
      rollback: { fromPromotionId: from.id, toPromotionId: to.id },
    });
    if (!created) {
      throw new DomainError(ErrorCode.NoActivePolicy, `environment ${env.name} has no active policy`, {
        environment: env.name,
      });
    }
    return this.promotions.get(id);
  }

  async history(environment: string, q: TagHistoryQuery): Promise<{ items: TagHistoryEntryView[] }> {
    const env = await this.environments.byNameCached(environment);
    const rows = await this.repo.tagHistory({
      environmentId: env.id,
      targetRepository: q.repository,
      tag: q.tag,
      limit: q.limit ?? 50,
    });
    const seen = new Set<string>();
    return {
      items: rows.map(({ promotion: p, promotedAt }) => {
        const key = `${p.targetRepository}:${p.tag}`;
        const current = !seen.has(key);
        seen.add(key);
        return {
          repository: p.targetRepository,
          tag: p.tag as string,
          digest: p.digest,
          promotionId: p.id,
          kind: p.kind,
          requester: actorKey(p.requester),
          promotedAt: promotedAt.toISOString(),
          current,
          rollbackFromPromotionId: p.rollbackFromPromotionId,
          rollbackToPromotionId: p.rollbackToPromotionId,
        };
      }),
    };
  }
}

/**
 * Which promotion a rollback rolls back (`from`: what the tag holds now, by Airlock's records) and
 * which it restores (`to`): the newest earlier write of the requested digest, or of the digest
 * before the current one for `previous`. Pure, over the tag's history newest first.
 */
export function rollbackTarget(
  history: readonly TagHistoryEntry[],
  dto: Pick<RollbackDto, 'repository' | 'tag' | 'to'>,
  environment: string,
): { from: PromotionEntity; to: PromotionEntity } {
  const where = `${dto.repository}:${dto.tag} in ${environment}`;
  const details = { environment, repository: dto.repository, tag: dto.tag, to: dto.to };
  if (history.length === 0) {
    throw new DomainError(
      ErrorCode.RollbackTargetUnknown,
      `Airlock never promoted anything to ${where}: there is nothing to roll back`,
      details,
    );
  }
  const from = history[0].promotion;
  if (dto.to === from.digest) {
    throw new DomainError(ErrorCode.RollbackNothingToDo, `${where} already holds ${dto.to}`, details);
  }
  const to = history.find((h) =>
    dto.to === 'previous' ? h.promotion.digest !== from.digest : h.promotion.digest === dto.to,
  )?.promotion;
  if (!to) {
    if (dto.to === 'previous') {
      throw new DomainError(
        ErrorCode.RollbackNothingToDo,
        `${where} has held only ${from.digest}: there is no previous digest`,
        details,
      );
    }
    throw new DomainError(
      ErrorCode.RollbackTargetUnknown,
      `Airlock never promoted ${dto.to} to ${where}; a rollback goes back only to a digest promoted there before`,
      details,
    );
  }
  return { from, to };
}
