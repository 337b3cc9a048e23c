import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  isProposer,
  notFound,
  type WaiverRule,
  waiverCovers,
  waiverProblems,
  waiverState,
  WaiverStatus,
} from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { EnvironmentService } from '../environment/environment.service';
import { actorKey, SYSTEM_ACTOR } from '../identity/actor';
import { type Caller } from '../identity/caller';
import { IdentityLinkService } from '../identity/identity-link.service';
import { PolicyService } from '../policy/policy.service';
import { type RequestWaiverDto, type WaiverView } from './waiver.dto';
import { type WaiverEntity } from './waiver.entity';
import { WebhookService } from '../webhook/webhook.service';
import { WaiverRepository } from './waiver.repository';

/**
 * Waivers: one person asks, a different person grants (linked identities count once), either may
 * revoke. Only granted, unexpired waivers apply, and only while a promotion is not yet approved:
 * the check stage applies them to its results, and an approval (or break-glass) finds a waiver its
 * promotion relied on that has since lapsed, and rejects instead.
 */
@Injectable()
export class WaiverService {
  constructor(
    private readonly repo: WaiverRepository,
    private readonly audit: AuditRepository,
    private readonly environments: EnvironmentService,
    private readonly policies: PolicyService,
    private readonly links: IdentityLinkService,
    private readonly clock: Clock,
    private readonly webhooks: WebhookService,
  ) {}

  async request(environment: string, dto: RequestWaiverDto, caller: Caller): Promise<WaiverView> {
    const env = await this.environments.byNameCached(environment);
    const now = this.clock.now();
    const rule = {
      check: dto.check,
      finding: dto.finding ?? null,
      digest: dto.digest ?? null,
      repositoryPattern: dto.repositoryPattern ?? null,
    };
    const expiresAt = new Date(dto.expiresAt);
    await this.assertAllowed(environment, { ...rule, expiresAt, from: now, now });
    const { person } = await this.links.namesOf(caller);
    const row = await this.repo.transaction(async (m) => {
      const created = await this.repo.insert(
        {
          environmentId: env.id,
          ...rule,
          reason: dto.reason,
          expiresAt,
          status: WaiverStatus.Requested,
          requestedBy: caller.actor,
          requestedByPerson: person,
          grantedBy: null,
          grantedAt: null,
          revokedBy: null,
          revokedAt: null,
          revokeReason: null,
          expiryAnnouncedAt: null,
        },
        m,
      );
      await this.record(m, caller, 'waiver.requested', created, environment);
      return created;
    });
    return this.view(row, environment);
  }

  /** A person other than the one who asked grants it, if the active policy still allows it. */
  async grant(environment: string, id: string, caller: Caller): Promise<WaiverView> {
    const env = await this.environments.byNameCached(environment);
    const names = await this.links.namesOf(caller);
    const row = await this.repo.transaction(async (m) => {
      const w = await this.open(env.id, id, m, [WaiverStatus.Requested]);
      const key = actorKey(w.requestedBy);
      if (isProposer(names, [w.requestedByPerson, key, await this.links.personOf(key)])) {
        throw new DomainError(
          ErrorCode.FourEyesRequired,
          'a waiver must be granted by a person other than the one who requested it (linked identities count once)',
          { waiver: id, requestedBy: key },
        );
      }
      const now = this.clock.now();
      await this.assertAllowed(environment, { ...w, from: w.createdAt.getTime(), now });
      await this.repo.update(
        id,
        { status: WaiverStatus.Granted, grantedBy: caller.actor, grantedAt: new Date(now) },
        m,
      );
      await this.record(m, caller, 'waiver.granted', w, environment);
      return (await this.repo.find(id, m)) ?? w;
    });
    return this.view(row, environment);
  }

  /** Withdraws a request or ends a grant: from now on it lets nothing through that is not yet approved. */
  async revoke(environment: string, id: string, reason: string, caller: Caller): Promise<WaiverView> {
    const env = await this.environments.byNameCached(environment);
    const row = await this.repo.transaction(async (m) => {
      const w = await this.open(env.id, id, m, [WaiverStatus.Requested, WaiverStatus.Granted]);
      await this.repo.update(
        id,
        {
          status: WaiverStatus.Revoked,
          revokedBy: caller.actor,
          revokedAt: new Date(this.clock.now()),
          revokeReason: reason,
        },
        m,
      );
      await this.record(m, caller, 'waiver.revoked', w, environment, { revokeReason: reason });
      return (await this.repo.find(id, m)) ?? w;
    });
    return this.view(row, environment);
  }

  async get(environment: string, id: string): Promise<WaiverView> {
    const env = await this.environments.byNameCached(environment);
    const w = await this.repo.find(id);
    if (!w || w.environmentId !== env.id) throw notFound('waiver', id);
    return this.view(w, environment);
  }

  async list(environment: string, cursor: string | undefined, limit: number): Promise<Page<WaiverView>> {
    const env = await this.environments.byNameCached(environment);
    const before = decodeCursor(cursor, ['seq'] as const);
    if (before && !/^\d{1,18}$/.test(before.seq)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    const rows = await this.repo.list(env.id, before?.seq, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => this.view(r, environment),
      (r) => ({ seq: r.seq }),
    );
  }

  /** The waivers in force now in the environment that cover this image. */
  async inForceFor(
    environmentId: string,
    image: { repository: string; digest: string },
  ): Promise<WaiverRule[]> {
    const rules = await this.repo.inForce(environmentId, new Date(this.clock.now()));
    return rules.filter((w) => waiverCovers(w, image));
  }

  /** Waivers a promotion's results rely on that have been revoked or have expired since. */
  lapsedFor(
    promotionId: string,
    m?: EntityManager,
  ): Promise<Array<{ id: string; check: string; why: 'revoked' | 'expired' }>> {
    return this.repo.lapsedFor(promotionId, new Date(this.clock.now()), m);
  }

  private async assertAllowed(environment: string, w: Parameters<typeof waiverProblems>[1]): Promise<void> {
    const policy = await this.policies.activeVersion(environment);
    const problems = waiverProblems(policy?.document.waivers, w);
    if (problems.length > 0) {
      throw new DomainError(ErrorCode.ValidationFailed, `the waiver is not allowed: ${problems.join('; ')}`, {
        errors: problems.map((message) => ({ field: 'waiver', message })),
      });
    }
  }

  private async open(
    environmentId: string,
    id: string,
    m: EntityManager,
    from: WaiverStatus[],
  ): Promise<WaiverEntity> {
    const w = await this.repo.lock(id, m);
    if (!w || w.environmentId !== environmentId) throw notFound('waiver', id);
    if (!from.includes(w.status)) {
      throw new DomainError(ErrorCode.Conflict, `this waiver is ${w.status}`, {
        waiver: id,
        status: w.status,
      });
    }
    return w;
  }

  /**
   * Announces granted waivers that ended by themselves (audit and webhook `waiver.expired`), once
   * each, in batches. Run by the worker's maintenance round. Returns how many it announced.
   */
  async announceExpired(batch = 100): Promise<number> {
    const now = new Date(this.clock.now());
    const announced = await this.repo.transaction(async (m) => {
      const ended = await this.repo.claimExpired(now, batch, m);
      for (const w of ended) {
        const environment = await this.environments.byIdName(w.environmentId);
        await this.record(m, { actor: SYSTEM_ACTOR } as Caller, 'waiver.expired', w, environment);
      }
      return ended.length;
    });
    if (announced > 0) this.webhooks.announced();
    return announced;
  }

  /** The audit event, and the webhook event its action produces (granted, revoked, expired), in `m`. */
  private async record(
    m: EntityManager,
    caller: Caller,
    action: string,
    w: WaiverEntity,
    environment: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const details = {
      environment,
      check: w.check,
      finding: w.finding,
      digest: w.digest,
      repositoryPattern: w.repositoryPattern,
      expiresAt: w.expiresAt.toISOString(),
      reason: w.reason,
      ...extra,
    };
    await this.audit.record(
      { actor: caller.actor, action, subjectType: 'waiver', subjectId: w.id, details },
      m,
    );
    await this.webhooks.recordAction(
      action,
      {
        environment,
        subjectType: 'waiver',
        subjectId: w.id,
        facts: { actor: caller.actor, details: { ...details, waiverId: w.id } },
      },
      m,
    );
  }

  private view(w: WaiverEntity, environment: string): WaiverView {
    return {
      id: w.id,
      environment,
      check: w.check,
      finding: w.finding,
      digest: w.digest,
      repositoryPattern: w.repositoryPattern,
      reason: w.reason,
      expiresAt: w.expiresAt.toISOString(),
      status: w.status,
      state: waiverState(w.status, w.expiresAt, this.clock.now()),
      requestedBy: actorKey(w.requestedBy),
      createdAt: w.createdAt.toISOString(),
      grantedBy: w.grantedBy ? actorKey(w.grantedBy) : null,
      grantedAt: w.grantedAt ? w.grantedAt.toISOString() : null,
      revokedBy: w.revokedBy ? actorKey(w.revokedBy) : null,
      revokedAt: w.revokedAt ? w.revokedAt.toISOString() : null,
      revokeReason: w.revokeReason,
    };
  }
}
