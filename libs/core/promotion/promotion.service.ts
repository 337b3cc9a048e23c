import { Injectable } from '@nestjs/common';
import {
  CANCELLABLE_STATUSES,
  canonicalHash,
  DomainError,
  ErrorCode,
  formatArtifactReference,
  isNotFound,
  isSourceAllowed,
  mayRequestRepository,
  notFound,
  parseRequestedArtifact,
  type ArtifactReference,
  PromotionKind,
  type RequestedArtifact,
  PromotionStatus,
  retryTarget,
  targetRepositoryFor,
} from '../../domain';
import { timeOrderedUuid } from '../common/time-ordered-id';
import { RegistryError } from '../../oci';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { SourceRegistries } from '../registry/source-registries';
import { PromotionGateService } from '../gate/gate.service';
import { type EnvironmentEntity } from '../environment/environment.entity';
import { EnvironmentService } from '../environment/environment.service';
import { actorKey } from '../identity/actor';
import { type Caller, hasRole } from '../identity/caller';
import { Role } from '../identity/role-binding.entity';
import {
  type CreatePromotionDto,
  type ListPromotionsQuery,
  type PromotionDetailView,
  PromotionView,
} from './promotion.dto';
import { type PromotionEntity } from './promotion.entity';
import { PromotionRepository } from './promotion.repository';
import { PromotionStateMachine } from './promotion-state-machine';

export interface RequestResult {
  promotion: PromotionView | PromotionDetailView;
  /** False when an Idempotency-Key replay returned the promotion created earlier. */
  created: boolean;
}

const MAX_BIGINT = 2n ** 63n - 1n;

@Injectable()
export class PromotionService {
  constructor(
    private readonly repo: PromotionRepository,
    private readonly environments: EnvironmentService,
    private readonly stateMachine: PromotionStateMachine,
    private readonly registries: SourceRegistries,
    private readonly gate: PromotionGateService,
  ) {}

  async request(dto: CreatePromotionDto, caller: Caller, idempotencyKey?: string): Promise<RequestResult> {
    const { env, requested } = await this.admit(dto, caller);
    const metadata = dto.metadata ?? {};
    const requestHash = canonicalHash({ artifact: dto.artifact, environment: dto.environment, metadata });

    // A digest into an environment without a chain: nothing is resolved or judged before the
    // insert, so the intake statement claims the key itself (one statement, one commit). Otherwise
    // the key is claimed first, so that a replay never resolves a tag or judges the chain again.
    const claimInInsert =
      idempotencyKey !== undefined && requested.tag === undefined && env.upstreams.length === 0;
    let claimed = false;
    const release = async (): Promise<void> => {
      if (claimed && idempotencyKey !== undefined)
        await this.repo.releaseIdempotencyKey(caller.key, idempotencyKey);
    };
    if (idempotencyKey !== undefined && !claimInInsert) {
      const earlier = await this.claim(caller, idempotencyKey, requestHash);
      if (earlier) return earlier;
      claimed = true;
    }

    let artifact: ArtifactReference;
    try {
      artifact = await this.resolve(env, requested);
      // The chain is judged on the pinned digest: a tag names whatever it points to today.
      await this.gate.assertChain(env, artifact.digest);
    } catch (e) {
      await release();
      throw e;
    }
    // Time-ordered: the promotion's indexes and its history's, outbox's grow at one end.
    const id = timeOrderedUuid();
    const targetRepository = targetRepositoryFor(env.target, artifact.repository);
    const record = {
      id,
      environmentId: env.id,
      sourceRegistry: artifact.registry,
      sourceRepository: artifact.repository,
      digest: artifact.digest,
      tag: requested.tag ?? null,
      targetRegistry: env.target.registry,
      targetRepository,
      requester: caller.actor,
      requesterKey: caller.key,
      claims: caller.claims,
      metadata,
      tokenIssuer: caller.tokenJti ? caller.actor.issuer : null,
      tokenJti: caller.tokenJti,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
    };
    let created;
    try {
      created = await this.stateMachine.create({ ...record, claimIdempotencyKey: claimInInsert });
      if (!created && claimInInsert && idempotencyKey !== undefined) {
        // Nothing inserted: someone holds the key, or the environment has no active policy. The
        // claim on its own tells which (and takes the key when it is free after all).
        const earlier = await this.claim(caller, idempotencyKey, requestHash);
        if (earlier) return earlier;
        claimed = true;
        created = await this.stateMachine.create(record);
      }
    } catch (e) {
      await release();
      throw e;
    }
    if (!created) {
      await release();
      throw new DomainError(ErrorCode.NoActivePolicy, `environment ${env.name} has no active policy`, {
        environment: env.name,
      });
    }
    const at = created.createdAt.toISOString();
    return {
      created: true,
      promotion: {
        id,
        status: PromotionStatus.Received,
        kind: PromotionKind.Promotion,
        rollback: null,
        artifact: formatArtifactReference(artifact),
        sourceRegistry: artifact.registry,
        sourceRepository: artifact.repository,
        digest: artifact.digest,
        tag: requested.tag ?? null,
        environment: env.name,
        target: `${env.target.registry}/${targetRepository}@${artifact.digest}`,
        policyVersion: created.policyVersion,
        policySha256: created.policySha256,
        requester: caller.key,
        claims: caller.claims,
        metadata,
        reasons: [],
        waitingFor: null,
        waitingUntil: null,
        gate: null,
        createdAt: at,
        updatedAt: at,
      },
    };
  }

  /**
   * Claims the Idempotency-Key for this request: undefined when claimed, the earlier request's
   * answer when it created a promotion with the same body; a conflict when its body differed or it
   * is still being handled.
   */
  private async claim(
    caller: Caller,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<RequestResult | undefined> {
    const claim = await this.repo.claimIdempotencyKey(caller.key, idempotencyKey, requestHash);
    if (claim.claimed) return undefined;
    if (claim.requestHash !== requestHash) {
      throw new DomainError(
        ErrorCode.IdempotencyKeyReused,
        'this Idempotency-Key was used with a different request body',
        { idempotencyKey },
      );
    }
    if (claim.promotionId === null) {
      throw new DomainError(
        ErrorCode.IdempotencyKeyInProgress,
        'a request with this Idempotency-Key is still being handled; retry shortly',
        { idempotencyKey },
      );
    }
    return { promotion: await this.get(claim.promotionId), created: false };
  }

  /**
   * The intake's checks, shared by a request and its dry run (which costs the same authorization):
   * the artifact parses, the caller is a requester for the environment, the source is allowed and
   * the caller may ask for this repository. Nothing is claimed, resolved or written.
   */
  async admit(
    dto: Pick<CreatePromotionDto, 'artifact' | 'environment'>,
    caller: Caller,
  ): Promise<{ env: EnvironmentEntity; requested: RequestedArtifact }> {
    const requested = parseRequestedArtifact(dto.artifact);
    const env = await this.environments.byNameCached(dto.environment);
    if (!hasRole(caller, Role.Requester, env.name)) {
      throw new DomainError(ErrorCode.Forbidden, `you may not request promotions into ${env.name}`, {
        environment: env.name,
      });
    }
    if (!isSourceAllowed(env.sources, requested)) {
      throw new DomainError(
        ErrorCode.SourceNotAllowed,
        `${requested.registry}/${requested.repository} is not an allowed source for ${env.name}`,
        { environment: env.name, registry: requested.registry, repository: requested.repository },
      );
    }
    this.assertRepositoryAllowed(env, requested, caller);
    return { env, requested };
  }

  /** The artifact pinned to a digest: a tag resolved once, against the environment's source registry. */
  resolve(env: Pick<EnvironmentEntity, 'sources'>, requested: RequestedArtifact): Promise<ArtifactReference> {
    return requested.tag === undefined ? Promise.resolve(requested) : this.resolveTag(env.sources, requested);
  }

  /**
   * A requester asks only for artifacts its bindings allow: a CI workload for its own repository
   * (its `repository` claim, mapped by the source rule's `ciRepository`) unless a binding's
   * `artifactRepositoryPattern` allows more. Checked before anything is claimed or resolved.
   */
  assertRepositoryAllowed(
    env: { name: string; sources: Parameters<typeof mayRequestRepository>[0] },
    artifact: { registry: string; repository: string },
    caller: Caller,
  ): void {
    const claimRepository =
      typeof caller.claims.repository === 'string' ? caller.claims.repository : undefined;
    const grantPatterns = caller.grants
      .filter((g) => g.role === Role.Requester && (g.environment === null || g.environment === env.name))
      .map((g) => g.artifactRepositoryPattern ?? null);
    if (
      mayRequestRepository(env.sources, artifact, { kind: caller.actor.kind, claimRepository, grantPatterns })
    )
      return;
    const whose =
      caller.actor.kind === 'ci'
        ? `a workload whose repository claim is ${claimRepository ?? '(none)'}`
        : caller.key;
    throw new DomainError(
      ErrorCode.RepositoryNotAllowed,
      `${artifact.registry}/${artifact.repository} may not be requested by ${whose} in ${env.name}: no source mapping or role binding allows it`,
      {
        environment: env.name,
        registry: artifact.registry,
        repository: artifact.repository,
        claimRepository: claimRepository ?? null,
      },
    );
  }

  /** Resolves a tag once, against the environment's configured source registry, and pins it. */
  private async resolveTag(
    sources: Parameters<SourceRegistries['with']>[0],
    r: { registry: string; repository: string; tag: string },
  ): Promise<ArtifactReference> {
    try {
      const digest = await this.registries.with(sources, r.registry, (c) =>
        c.resolveTag(r.repository, r.tag),
      );
      return { registry: r.registry, repository: r.repository, digest };
    } catch (e) {
      if (e instanceof RegistryError && e.kind === 'not_found') {
        throw new DomainError(
          ErrorCode.TagNotFound,
          `${r.registry}/${r.repository}:${r.tag} does not exist`,
          {
            tag: r.tag,
          },
        );
      }
      if (e instanceof RegistryError) {
        // Only what may pass later is "retry later" (503); the rest names the problem (422).
        throw new DomainError(
          e.permanent ? ErrorCode.RegistryRefused : ErrorCode.RegistryUnavailable,
          `could not resolve the tag at ${r.registry}: ${e.message}`,
          { registry: r.registry, kind: e.kind },
        );
      }
      throw e;
    }
  }

  /** The stored row, for services that decide on it (approvals). */
  async entity(id: string): Promise<PromotionEntity> {
    const p = await this.repo.findById(id);
    if (!p) throw notFound('promotion', id);
    return p;
  }

  async get(id: string): Promise<PromotionDetailView> {
    const d = await this.repo.detail(id);
    if (!d) throw notFound('promotion', id);
    return {
      ...this.view(d.promotion, d.environmentName, d.policyVersion),
      attestation: d.promotion.attestation,
      checks: d.checks.map((c) => ({
        kind: c.kind,
        status: c.status,
        summary: c.summary,
        findings: c.findings,
        waivers: c.waivers,
        attempts: c.attempts,
        finishedAt: c.finishedAt.toISOString(),
      })),
      approvals: d.approvals.map((a) => ({
        decision: a.decision,
        approver: a.approverKey,
        comment: a.comment,
        digest: a.digest,
        policySha256: a.policySha256,
        at: a.createdAt.toISOString(),
      })),
      history: d.history.map((h) => ({
        from: h.fromStatus,
        to: h.toStatus,
        actor: actorKey(h.actor),
        reason: h.reason,
        at: h.at.toISOString(),
      })),
    };
  }

  async list(q: ListPromotionsQuery): Promise<Page<PromotionView>> {
    const limit = q.limit ?? 50;
    const cursor = decodeCursor(q.cursor, ['seq'] as const);
    // seq is a bigint column: a larger number would fail in Postgres rather than here.
    if (cursor && (!/^\d{1,19}$/.test(cursor.seq) || BigInt(cursor.seq) > MAX_BIGINT)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    let environmentId: string | undefined;
    if (q.environment) {
      try {
        environmentId = (await this.environments.byNameCached(q.environment)).id;
      } catch (e) {
        // No such environment: no promotions into it. Any other failure (an outage) is not "none".
        if (isNotFound(e)) return { items: [], nextCursor: null };
        throw e;
      }
    }
    const rows = await this.repo.list({
      status: q.status,
      environmentId,
      requesterKey: q.requester,
      digest: q.digest,
      kind: q.kind,
      beforeSeq: cursor?.seq,
      limit: limit + 1,
    });
    const names = await this.environmentNames(rows);
    return toPage(
      rows,
      limit,
      (r) => this.view(r, names.get(r.environmentId) ?? '', r.policyVersion),
      (r) => ({ seq: r.seq }),
    );
  }

  async cancel(id: string, caller: Caller, reason: string | undefined): Promise<PromotionDetailView> {
    const p = await this.repo.findById(id);
    if (!p) throw notFound('promotion', id);
    const env = await this.environments.byNameCached(await this.environmentName(p.environmentId));
    if (p.requesterKey !== caller.key && !hasRole(caller, Role.Admin, env.name)) {
      throw new DomainError(ErrorCode.Forbidden, 'only the requester or an admin may cancel a promotion', {});
    }
    if (!CANCELLABLE_STATUSES.includes(p.status)) {
      throw new DomainError(ErrorCode.Conflict, `a ${p.status} promotion cannot be cancelled`, {
        status: p.status,
      });
    }
    await this.stateMachine.transition({
      promotionId: id,
      from: p.status,
      to: PromotionStatus.Cancelled,
      actor: caller.actor,
      reason: reason ?? 'cancelled',
      reasons: [`cancelled by ${caller.key}${reason ? `: ${reason}` : ''}`],
    });
    return this.get(id);
  }

  /**
   * Retries a failed promotion at the stage that failed, as the lifecycle says: the checks again,
   * or the copy (through approved, keeping its approvals: neither digest nor policy can have changed).
   */
  async retry(id: string, caller: Caller): Promise<PromotionDetailView> {
    const p = await this.entity(id);
    const env = await this.environments.byNameCached(await this.environmentName(p.environmentId));
    if (p.requesterKey !== caller.key && !hasRole(caller, Role.Admin, env.name)) {
      throw new DomainError(ErrorCode.Forbidden, 'only the requester or an admin may retry a promotion', {});
    }
    if (p.status !== PromotionStatus.Failed) {
      throw new DomainError(
        ErrorCode.Conflict,
        `only a failed promotion can be retried; this one is ${p.status}`,
        {
          status: p.status,
        },
      );
    }
    const to = retryTarget(await this.repo.failedFrom(id));
    await this.stateMachine.transition({
      promotionId: id,
      from: PromotionStatus.Failed,
      to,
      actor: caller.actor,
      reason: `retried by ${caller.key}`,
      reasons: [],
    });
    return this.get(id);
  }

  /** The API's summary view of a promotion. */
  view(p: PromotionEntity, environment: string, policyVersion: number): PromotionView {
    return PromotionView.of(p, environment, policyVersion);
  }

  private environmentName(id: string): Promise<string> {
    return this.environments.byIdName(id);
  }

  private async environmentNames(rows: PromotionEntity[]): Promise<Map<string, string>> {
    const ids = [...new Set(rows.map((r) => r.environmentId))];
    return new Map(await Promise.all(ids.map(async (id) => [id, await this.environmentName(id)] as const)));
  }
}
