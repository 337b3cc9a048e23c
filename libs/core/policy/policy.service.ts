import { Injectable } from '@nestjs/common';
import {
  canonicalHash,
  diffPolicies,
  DomainError,
  ErrorCode,
  isSamePerson,
  notFound,
  type PolicyDocument,
  policyDocumentProblems,
} from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { WebhookService } from '../webhook/webhook.service';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { type Tx } from '../database/unit-of-work';
import { type EnvironmentEntity } from '../environment/environment.entity';
import { EnvironmentRepository } from '../environment/environment.repository';
import { actorKey } from '../identity/actor';
import { type Caller } from '../identity/caller';
import { IdentityLinkService } from '../identity/identity-link.service';
import { type CreatePolicyVersionDto, type PolicyDiffView, type PolicyVersionView } from './policy.dto';
import { type PolicyVersionEntity } from './policy-version.entity';
import { PolicyRepository } from './policy.repository';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { VerificationQueue } from '../verification/verification-queue';

/**
 * Policy versions: immutable once stored, numbered per environment, hashed over their canonical
 * form. Activating one takes a second admin (four eyes), like any promotion.
 */
@Injectable()
export class PolicyService {
  private readonly versionsById = boundedCache<string, PolicyVersionEntity>(CACHE_BOUNDS.policyVersions);

  constructor(
    private readonly repo: PolicyRepository,
    private readonly environments: EnvironmentRepository,
    private readonly audit: AuditRepository,
    private readonly links: IdentityLinkService,
    private readonly webhooks: WebhookService,
    private readonly verification: VerificationQueue,
    private readonly wakeups: WakeBus,
  ) {}

  async addVersion(
    environment: string,
    dto: CreatePolicyVersionDto,
    caller: Caller,
  ): Promise<PolicyVersionView> {
    const problems = policyDocumentProblems(dto.document);
    if (problems.length > 0) {
      throw new DomainError(
        ErrorCode.InvalidPolicy,
        `the policy document is invalid: ${problems.join('; ')}`,
        {
          problems,
        },
      );
    }
    const document = dto.document as unknown as PolicyDocument;
    const created = await this.repo.transaction(async ({ manager: m }) => {
      const env = await this.lockEnvironment(environment, m);
      const version = await this.repo.insertNext(
        {
          environmentId: env.id,
          document,
          sha256: canonicalHash(document),
          comment: dto.comment ?? '',
          createdBy: caller.actor,
        },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'policy.version_added',
          subjectType: 'environment',
          subjectId: environment,
          details: { version: version.version, sha256: version.sha256 },
        },
        m,
      );
      await this.webhooks.recordAction(
        'policy.version_added',
        {
          environment,
          subjectType: 'environment',
          subjectId: environment,
          facts: {
            actor: caller.actor,
            details: { environment, version: version.version, sha256: version.sha256 },
          },
        },
        m,
      );
      return version;
    });
    this.webhooks.announced();
    return this.view(created, environment, null);
  }

  /** Four eyes: the activating person is not the one who added the version (linked identities count once). */
  async activate(environment: string, version: number, caller: Caller): Promise<PolicyVersionView> {
    const activator = await this.links.namesOf(caller);
    const activated = await this.repo.transaction(async ({ manager: m }) => {
      const env = await this.lockEnvironment(environment, m);
      const v = await this.repo.find(env.id, version, m);
      if (!v) throw notFound('policy version', `${environment}/${version}`);
      const author = actorKey(v.createdBy);
      if (isSamePerson(activator, author) || isSamePerson(activator, await this.links.personOf(author))) {
        throw new DomainError(
          ErrorCode.FourEyesRequired,
          'a policy version must be activated by a person other than the one who added it (linked identities count once)',
          { createdBy: actorKey(v.createdBy) },
        );
      }
      if (env.activePolicyVersionId === v.id) {
        throw new DomainError(ErrorCode.Conflict, `version ${version} is already active`, { version });
      }
      // Only forward: going back to a version that was active before, or one older than the active
      // one, would let one admin weaken production with a second person's old consent. Going back is
      // a new version with the old document, which another person activates.
      const active = env.activePolicyVersionId
        ? await this.repo.findById(env.activePolicyVersionId, m)
        : null;
      if (v.activatedAt !== null || (active && active.version > v.version)) {
        throw new DomainError(
          ErrorCode.Conflict,
          `version ${version} is older than the active version ${active?.version ?? version} or was active before: add its document again as a new version, for another person to activate`,
          { version, activeVersion: active?.version ?? null },
        );
      }
      await this.repo.markActivated(v.id, caller.actor, m);
      await this.environments.setActivePolicy(env.id, v.id, m);
      // What the environment holds now is re-judged under the version just activated.
      await this.verification.queue(m, { trigger: 'policy', environmentId: env.id, policyVersion: version });
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'policy.activated',
          subjectType: 'environment',
          subjectId: environment,
          details: { version, sha256: v.sha256, previousPolicyVersionId: env.activePolicyVersionId },
        },
        m,
      );
      await this.webhooks.recordAction(
        'policy.activated',
        {
          environment,
          subjectType: 'environment',
          subjectId: environment,
          facts: { actor: caller.actor, details: { environment, version, sha256: v.sha256 } },
        },
        m,
      );
      return (await this.repo.find(env.id, version, m)) ?? v;
    });
    this.webhooks.announced();
    this.wakeups.wake(OUTBOX_TOPIC);
    return this.view(activated, environment, activated.id);
  }

  /**
   * One version; one that is not active carries what activating it would change against the
   * active version, so the second admin reads the difference before activating.
   */
  async get(environment: string, version: number): Promise<PolicyVersionView> {
    const env = await this.envByName(environment);
    const v = await this.repo.find(env.id, version);
    if (!v) throw notFound('policy version', `${environment}/${version}`);
    const view = this.view(v, environment, env.activePolicyVersionId);
    if (env.activePolicyVersionId && env.activePolicyVersionId !== v.id) {
      view.changesFromActive = diffPolicies(
        (await this.byId(env.activePolicyVersionId)).document,
        v.document,
      );
    }
    return view;
  }

  /** What changed from version `a` to version `b`, per section. */
  async diff(environment: string, a: number, b: number): Promise<PolicyDiffView> {
    const env = await this.envByName(environment);
    const [from, to] = await Promise.all([this.repo.find(env.id, a), this.repo.find(env.id, b)]);
    if (!from) throw notFound('policy version', `${environment}/${a}`);
    if (!to) throw notFound('policy version', `${environment}/${b}`);
    return {
      environment,
      from: a,
      to: b,
      fromSha256: from.sha256,
      toSha256: to.sha256,
      toActive: env.activePolicyVersionId === to.id,
      sections: diffPolicies(from.document, to.document),
    };
  }

  async list(
    environment: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<PolicyVersionView>> {
    const env = await this.envByName(environment);
    const before = decodeCursor(cursor, ['version'] as const);
    const beforeVersion = before ? Number(before.version) : undefined;
    if (
      beforeVersion !== undefined &&
      !(Number.isInteger(beforeVersion) && beforeVersion > 0 && beforeVersion < 2 ** 31)
    ) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    const rows = await this.repo.list(env.id, beforeVersion, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => this.view(r, environment, env.activePolicyVersionId),
      (r) => ({ version: String(r.version) }),
    );
  }

  /** A version of the environment's policy, as stored (for evaluations and diffs). */
  async version(environment: string, version: number): Promise<PolicyVersionEntity> {
    const env = await this.envByName(environment);
    const v = await this.repo.find(env.id, version);
    if (!v) throw notFound('policy version', `${environment}/${version}`);
    return v;
  }

  /** The version new requests pin now, read fresh (not from a cache), or null when none is active. */
  async activeVersion(environment: string): Promise<PolicyVersionEntity | null> {
    const env = await this.envByName(environment);
    return env.activePolicyVersionId ? this.byId(env.activePolicyVersionId) : null;
  }

  /** Policy versions never change, so once read they stay cached (bounded in number: CACHE_BOUNDS). */
  async byId(id: string): Promise<PolicyVersionEntity> {
    const hit = this.versionsById.get(id);
    if (hit) return hit;
    const v = await this.repo.findById(id);
    if (!v) throw notFound('policy version', id);
    this.versionsById.set(id, v);
    return v;
  }

  private async envByName(name: string): Promise<EnvironmentEntity> {
    const env = await this.environments.findByName(name);
    if (!env) throw notFound('environment', name);
    return env;
  }

  /** Serialises version numbering and activation per environment. */
  private async lockEnvironment(name: string, m: Tx['manager']): Promise<EnvironmentEntity> {
    const env = await this.environments.lockByName(name, m);
    if (!env) throw notFound('environment', name);
    return env;
  }

  private view(v: PolicyVersionEntity, environment: string, activeId: string | null): PolicyVersionView {
    return {
      id: v.id,
      environment,
      version: v.version,
      document: v.document,
      sha256: v.sha256,
      comment: v.comment,
      createdBy: actorKey(v.createdBy),
      createdAt: v.createdAt.toISOString(),
      active: v.id === activeId,
      activatedBy: v.activatedBy ? actorKey(v.activatedBy) : null,
      activatedAt: v.activatedAt ? v.activatedAt.toISOString() : null,
    };
  }
}
