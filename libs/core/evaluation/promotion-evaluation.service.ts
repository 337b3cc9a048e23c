import { Injectable } from '@nestjs/common';
import {
  approvalRequirements,
  type ArtifactReference,
  CheckStatus,
  DomainError,
  ErrorCode,
  evaluateChecks,
  formatArtifactReference,
  isSourceAllowed,
  notFound,
  parseRequestedArtifact,
  type PolicyDocument,
  type PreCopyCondition,
  PromotionStatus,
  type ReplayVerdict,
  sameCheckSection,
  summarizeReplay,
} from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { type CheckSubject } from '../check/check-kind';
import { CheckRepository } from '../check/check.repository';
import { CheckStageService, type KindResult, transientOnly } from '../check/check-stage.service';
import { Clock } from '../common/clock';
import { type EnvironmentEntity } from '../environment/environment.entity';
import { type Caller, hasRole } from '../identity/caller';
import { type RoleBindingView } from '../identity/identity.dto';
import { IdentityService } from '../identity/identity.service';
import { Role } from '../identity/role-binding.entity';
import { type PolicyVersionEntity } from '../policy/policy-version.entity';
import { PolicyService } from '../policy/policy.service';
import { type CreatePromotionDto } from '../promotion/promotion.dto';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { PromotionRepository } from '../promotion/promotion.repository';
import { PromotionService } from '../promotion/promotion.service';
import { PromotionGateService } from '../gate/gate.service';
import { WaiverService } from '../waiver/waiver.service';
import { InFlightLimit } from './in-flight-limit';
import {
  type EvaluatedCheckView,
  type EvaluatePolicyDto,
  type PolicyEvaluationView,
  type PromotionEvaluationView,
  type ReplayedPromotionView,
} from './evaluation.dto';

/**
 * Statuses whose check stage ended: a past promotion judged again under a proposed policy is one
 * of these (one still being checked has no result to compare with).
 */
const JUDGED = new Set<PromotionStatus>([
  PromotionStatus.AwaitingApproval,
  PromotionStatus.Approved,
  PromotionStatus.Promoting,
  PromotionStatus.Promoted,
  PromotionStatus.Rejected,
  PromotionStatus.Expired,
  PromotionStatus.Failed,
]);

/** How long judging past promotions may spend running checks again, before the rest is undetermined. */
const REPLAY_BUDGET_MS = 60_000;

/** Evaluations one API process runs at once (see InFlightLimit). */
const MAX_EVALUATIONS_IN_FLIGHT = 4;

interface Judged {
  decision: ReplayVerdict;
  reasons: string[];
  checks: EvaluatedCheckView[];
}

/**
 * "What would happen if I asked now?" A dry run of a request, and a proposed policy version
 * judged on one image or on the environment's past promotions.
 *
 * It runs inline, in the API request, not as a worker job: the caller waits for the answer either
 * way, nothing is stored that a job would have to hand back, and every check runs under the same
 * limits as in the check stage (registry timeouts, the secret scan's time and size budgets). A
 * check that could not run is answered as such (`undetermined`), not retried. Nothing is written
 * but one audit event: no promotion, check rows, outbox rows, jobs or approvals.
 */
@Injectable()
export class PromotionEvaluationService {
  private readonly inFlight = new InFlightLimit(MAX_EVALUATIONS_IN_FLIGHT);

  constructor(
    private readonly promotions: PromotionService,
    private readonly promotionRows: PromotionRepository,
    private readonly stage: CheckStageService,
    private readonly checkRows: CheckRepository,
    private readonly policies: PolicyService,
    private readonly identity: IdentityService,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    private readonly waivers: WaiverService,
    private readonly gate: PromotionGateService,
  ) {}

  /** `POST /v1/promotions/evaluate`: the request's own intake checks, then its checks, unstored. */
  async dryRun(dto: CreatePromotionDto, caller: Caller): Promise<PromotionEvaluationView> {
    // Authorization first: a refused caller gets its 403, never a 429 for someone else's load.
    const admitted = await this.promotions.admit(dto, caller);
    return this.inFlight.run(() => this.dryRunNow(admitted, caller));
  }

  private async dryRunNow(
    { env, requested }: Awaited<ReturnType<PromotionService['admit']>>,
    caller: Caller,
  ): Promise<PromotionEvaluationView> {
    const policy = await this.policies.activeVersion(env.name);
    if (!policy) {
      throw new DomainError(ErrorCode.NoActivePolicy, `environment ${env.name} has no active policy`, {
        environment: env.name,
      });
    }
    const artifact = await this.promotions.resolve(env, requested);
    const view = await this.evaluateImage(env, policy, artifact, requested.tag ?? null, {
      requesterKey: caller.key,
      claims: caller.claims,
    });
    await this.audit.record({
      actor: caller.actor,
      action: 'promotion.evaluated',
      subjectType: 'environment',
      subjectId: env.name,
      details: {
        artifact: view.artifact,
        policyVersion: view.policyVersion,
        decision: view.decision,
        failing: view.checks.filter((c) => c.status !== 'pass').map((c) => c.kind),
      },
    });
    return view;
  }

  /**
   * `POST /v1/environments/:name/policies/:version/evaluate`: a (proposed) version judged on one
   * image, or on the environment's last N judged promotions, reusing each one's stored check
   * results where the part of the policy that check depends on is unchanged.
   */
  async evaluatePolicy(
    env: EnvironmentEntity,
    version: number,
    dto: EvaluatePolicyDto,
    caller: Caller,
  ): Promise<PolicyEvaluationView> {
    if (!hasRole(caller, Role.Admin, env.name) && !hasRole(caller, Role.Approver, env.name)) {
      throw new DomainError(ErrorCode.Forbidden, `this needs the admin or approver role for ${env.name}`, {
        environment: env.name,
      });
    }
    return this.inFlight.run(() => this.evaluatePolicyNow(env, version, dto, caller));
  }

  private async evaluatePolicyNow(
    env: EnvironmentEntity,
    version: number,
    dto: EvaluatePolicyDto,
    caller: Caller,
  ): Promise<PolicyEvaluationView> {
    const given = [dto.artifact, dto.digest, dto.lastN].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw new DomainError(ErrorCode.ValidationFailed, 'give exactly one of artifact, digest or lastN', {
        errors: [{ field: 'artifact', message: 'give exactly one of artifact, digest or lastN' }],
      });
    }
    const policy = await this.policies.version(env.name, version);
    let evaluation: PromotionEvaluationView | undefined;
    let promotions: ReplayedPromotionView[] = [];
    if (dto.lastN !== undefined) {
      promotions = await this.replay(env, policy, dto.lastN);
    } else {
      const artifact = await this.artifactFor(env, dto);
      evaluation = await this.evaluateImage(env, policy, artifact, null, { requesterKey: null, claims: {} });
    }
    const counts = summarizeReplay(
      evaluation
        ? [{ verdict: evaluation.decision, status: 'none' }]
        : promotions.map((p) => ({ verdict: p.verdict as ReplayVerdict, status: p.status })),
    );
    const summary = evaluation
      ? `this version would answer ${evaluation.decision} for ${evaluation.artifact}`
      : counts.summary;
    await this.audit.record({
      actor: caller.actor,
      action: 'policy.evaluated',
      subjectType: 'environment',
      subjectId: env.name,
      details: { version, sha256: policy.sha256, summary, ...(dto.lastN ? { lastN: dto.lastN } : {}) },
    });
    return {
      environment: env.name,
      policyVersion: policy.version,
      policySha256: policy.sha256,
      ...counts,
      summary,
      promotions,
      ...(evaluation ? { evaluation } : {}),
    };
  }

  /** An artifact named by reference, or by a digest this environment has seen (its latest promotion's source). */
  private async artifactFor(env: EnvironmentEntity, dto: EvaluatePolicyDto): Promise<ArtifactReference> {
    if (dto.artifact !== undefined) {
      const requested = parseRequestedArtifact(dto.artifact);
      if (!isSourceAllowed(env.sources, requested)) {
        throw new DomainError(
          ErrorCode.SourceNotAllowed,
          `${requested.registry}/${requested.repository} is not an allowed source for ${env.name}`,
          { environment: env.name, registry: requested.registry, repository: requested.repository },
        );
      }
      return this.promotions.resolve(env, requested);
    }
    const [seen] = await this.promotionRows.list({ environmentId: env.id, digest: dto.digest, limit: 1 });
    if (!seen) throw notFound('promotion of digest', `${dto.digest ?? ''} in ${env.name}`);
    return { registry: seen.sourceRegistry, repository: seen.sourceRepository, digest: seen.digest };
  }

  private async evaluateImage(
    env: EnvironmentEntity,
    policy: PolicyVersionEntity,
    artifact: ArtifactReference,
    tag: string | null,
    request: { requesterKey: string | null; claims: CheckSubject['claims'] },
  ): Promise<PromotionEvaluationView> {
    const subject: CheckSubject = {
      sourceRegistry: artifact.registry,
      sourceRepository: artifact.repository,
      digest: artifact.digest,
      claims: request.claims,
    };
    const waivers = await this.waivers.inForceFor(env.id, artifact);
    const results = await this.stage.runKinds(subject, policy.document, env.sources, waivers);
    const judged = this.judge(
      policy.document,
      results.map((r) => ({ ...r, source: 'ran' as const })),
    );
    const bindings = await this.identity.listBindings();
    const req = approvalRequirements(policy.document.approvals);
    const approvers = bindings.filter((b) => holds(b, Role.Approver, env.name)).map(describeBinding);
    const breakGlassHolders = bindings
      .filter((b) => holds(b, Role.BreakGlass, env.name))
      .map(describeBinding);
    const excluded = [
      ...(req.separationOfDuties.requesterCannotApprove && request.requesterKey
        ? [`${request.requesterKey} (the requester)`]
        : []),
      ...(req.separationOfDuties.authorCannotApprove && typeof request.claims.actor === 'string'
        ? [`handle:${request.claims.actor} (the CI run's actor)`]
        : []),
    ];
    return {
      environment: env.name,
      artifact: formatArtifactReference(artifact),
      digest: artifact.digest,
      tag,
      policyVersion: policy.version,
      policySha256: policy.sha256,
      decision: judged.decision,
      reasons: judged.reasons,
      checks: judged.checks,
      approvals: {
        required: req.rules.reduce((n, r) => n + r.required, 0),
        rules: req.rules.map((r) => ({ name: r.name, required: r.required, groups: r.groups })),
        approvers,
        excluded,
      },
      breakGlass: breakGlassFor(judged.decision, breakGlassHolders),
      conditions: await this.conditions(env, policy.document, artifact.digest),
    };
  }

  /**
   * The conditions before the copy (chain, soak, freeze) as the gate would judge them now: `met`,
   * `waiting` (until when), or `blocked` (the chain refuses the digest). None when the environment
   * has no upstreams, asks no soak and has no freeze windows.
   */
  private async conditions(
    env: EnvironmentEntity,
    policy: PolicyDocument,
    digest: string,
  ): Promise<PreCopyCondition[]> {
    const decision = await this.gate.preview(env, policy, digest);
    const frozen = decision.action === 'wait' && decision.for === 'freeze';
    const kinds = [
      ...(env.upstreams.length > 0 ? ['chain'] : []),
      ...(policy.soak ? ['soak'] : []),
      ...(frozen || (policy.freeze?.windows?.length ?? 0) > 0 ? ['freeze'] : []),
    ];
    if (kinds.length === 0) return [];
    if (decision.action === 'refuse') {
      return kinds.map((kind) =>
        kind === 'chain'
          ? { kind, state: 'blocked' as const, detail: decision.reason }
          : { kind, state: 'met' as const, detail: 'not judged: the chain refuses the digest first' },
      );
    }
    if (decision.action === 'wait') {
      return kinds.map((kind) =>
        kind === decision.for
          ? { kind, state: 'waiting' as const, detail: decision.reason, until: decision.until.toISOString() }
          : { kind, state: 'met' as const, detail: `${kind}: would not hold it` },
      );
    }
    const evidence = decision.evidence;
    return kinds.map((kind) => {
      if (kind === 'chain' && evidence.upstream) {
        return {
          kind,
          state: 'met' as const,
          detail: `promoted into ${evidence.upstream.environment} (promotion ${evidence.upstream.promotionId})`,
        };
      }
      if (kind === 'soak' && evidence.soak) {
        return {
          kind,
          state: 'met' as const,
          detail: `in the upstream for ${evidence.soak.observedSeconds} s (soak ${evidence.soak.required})`,
        };
      }
      return { kind, state: 'met' as const, detail: 'no freeze window holds promotions now' };
    });
  }

  /** The check stage's decision on these results, without retrying what could not run. */
  private judge(policy: PolicyDocument, results: Array<KindResult & { source: 'ran' | 'stored' }>): Judged {
    const checks: EvaluatedCheckView[] = results.map((r) => ({
      kind: r.kind,
      status: r.status,
      summary: r.summary,
      findings: r.findings,
      blocking: r.blocking ?? [],
      source: r.source,
      ...(r.waivers?.length ? { waivers: [...new Set(r.waivers.map((w) => w.waiver))] } : {}),
    }));
    const transient = transientOnly(results);
    if (transient.length > 0) {
      return {
        decision: 'undetermined',
        reasons: transient.map((r) => `${r.kind}: ${r.summary}`),
        checks,
      };
    }
    const outcome = evaluateChecks(policy, results);
    return { decision: outcome.decision, reasons: outcome.reasons, checks };
  }

  /** The last N judged promotions of the environment, judged again under `policy`. */
  private async replay(
    env: EnvironmentEntity,
    policy: PolicyVersionEntity,
    n: number,
  ): Promise<ReplayedPromotionView[]> {
    const rows = (await this.promotionRows.list({ environmentId: env.id, limit: n * 4 }))
      .filter((p) => JUDGED.has(p.status))
      .slice(0, n);
    const stored = await this.checkRows.forPromotions(rows.map((r) => r.id));
    const deadline = this.clock.now() + REPLAY_BUDGET_MS;
    const out: ReplayedPromotionView[] = [];
    for (const p of rows) {
      const pinned = (await this.policies.byId(p.policyVersionId)).document;
      const judged = await this.replayOne(p, pinned, policy.document, env, stored.get(p.id) ?? [], deadline);
      out.push({
        promotionId: p.id,
        artifact: `${p.sourceRegistry}/${p.sourceRepository}@${p.digest}`,
        status: p.status,
        policyVersion: p.policyVersion,
        verdict: judged.decision,
        reasons: judged.reasons,
        checks: judged.checks,
      });
    }
    return out;
  }

  private async replayOne(
    p: PromotionEntity,
    pinned: PolicyDocument,
    proposed: PolicyDocument,
    env: EnvironmentEntity,
    stored: Array<{ kind: string; status: CheckStatus; summary: string; findings: unknown[] }>,
    deadline: number,
  ): Promise<Judged> {
    const kinds = this.stage.kindsFor(proposed);
    const reusable = kinds.every(
      (k) => stored.some((s) => s.kind === k) && sameCheckSection(pinned, proposed, k),
    );
    if (reusable) {
      const results = kinds.map((k) => {
        const s = stored.find((x) => x.kind === k);
        return {
          kind: k,
          status: s?.status ?? CheckStatus.Error,
          summary: s?.summary ?? '',
          findings: s?.findings ?? [],
          // The stored row keeps findings, not the blocking lines: a failing check is named by its summary.
          blocking: [],
          source: 'stored' as const,
        };
      });
      return this.judge(proposed, results);
    }
    if (this.clock.now() > deadline) {
      return {
        decision: 'undetermined',
        reasons: ['not judged: the time budget for running checks again ran out'],
        checks: [],
      };
    }
    // Some check the proposed policy needs has no comparable stored result: run them all again on
    // the image, as a dry run would.
    const waivers = await this.waivers.inForceFor(env.id, {
      repository: p.sourceRepository,
      digest: p.digest,
    });
    const results = await this.stage.runKinds(p, proposed, env.sources, waivers);
    return this.judge(
      proposed,
      results.map((r) => ({ ...r, source: 'ran' as const })),
    );
  }
}

function holds(b: RoleBindingView, role: Role, environment: string): boolean {
  return b.role === role && (b.environment === null || b.environment === environment);
}

/** A role binding as a person reads it: whom it names, at which issuer. */
function describeBinding(b: RoleBindingView): string {
  const who = [
    b.subject ? `subject ${b.subject}` : null,
    b.group ? `group ${b.group}` : null,
    b.repositoryPattern ? `repository ${b.repositoryPattern}` : null,
  ].filter(Boolean);
  return `${who.length ? who.join(', ') : 'anyone'} at ${b.issuer}${b.environment ? '' : ' (every environment)'}`;
}

/** Break-glass skips approvals only: it applies once the checks pass and approvals are awaited. */
function breakGlassFor(decision: ReplayVerdict, holders: string[]): PromotionEvaluationView['breakGlass'] {
  switch (decision) {
    case 'awaiting_approval':
      return holders.length
        ? {
            couldApply: true,
            reason: 'the checks pass; someone holding break_glass could skip the approvals',
            holders,
          }
        : { couldApply: false, reason: 'nobody holds break_glass for this environment', holders };
    case 'approved':
      return { couldApply: false, reason: 'no approvals are needed: nothing to skip', holders };
    case 'rejected':
      return { couldApply: false, reason: 'break-glass skips approvals, never failing checks', holders };
    case 'undetermined':
      return { couldApply: false, reason: 'a check could not run: a request would wait for it', holders };
  }
}
