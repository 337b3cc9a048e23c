import { Injectable, Logger } from '@nestjs/common';
import {
  classifyFailure,
  DomainError,
  ErrorCode,
  Failure,
  isRollback,
  notFound,
  PromotionStatus,
} from '../../domain';
import {
  copyManifest,
  type CopyStats,
  digestTag,
  emptyStats,
  isImageIndex,
  pushArtifact,
  type RegistryClient,
} from '../../oci';
import {
  appendAttestationLayers,
  cosignAttestationLayers,
  promotionStatements,
  signStatement,
  SigningKey,
  type PromotionFacts,
} from '../../trust';
import { EnvironmentService } from '../environment/environment.service';
import { SYSTEM_ACTOR } from '../identity/actor';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { type AttestationFacts, PromotionRepository } from '../promotion/promotion.repository';
import { PromotionStateMachine, type Transition } from '../promotion/promotion-state-machine';
import { type GateOptions, PromotionGateService } from '../gate/gate.service';
import { SourceRegistries } from '../registry/source-registries';
import { PromoterCopier } from './promoter-copier';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/**
 * Repositories tried for a cross-repository mount of each blob the target lacks. One: a miss costs
 * a request and its cancellation per blob, and the newest promotion is the likeliest to share it.
 */
const MOUNT_CANDIDATES = 1;

/**
 * What a promotion may skip at the gate, the one place that says it. A rollback goes back to what
 * already ran here, so neither the soak nor the upstream's current tag holds it; a freeze does
 * (break-glass overrides it).
 */
export function gateOptionsFor(p: PromotionEntity): GateOptions {
  const rollback = isRollback(p);
  return { skipSoak: rollback, skipChain: rollback };
}

/**
 * What Airlock attests about a promotion: the row (break-glass is its flag, set by that transition)
 * and the facts read for it (pinned policy version, checks, decisions).
 */
export function promotionFacts(
  p: PromotionEntity,
  d: AttestationFacts,
  environment: string,
  promotedAt: Date,
): PromotionFacts {
  return {
    promotionId: p.id,
    environment,
    source: { registry: p.sourceRegistry, repository: p.sourceRepository, digest: p.digest, tag: p.tag },
    target: { registry: p.targetRegistry, repository: p.targetRepository, digest: p.digest, tag: p.tag },
    policy: { version: d.policyVersion, sha256: p.policySha256 },
    checks: d.checks.map((c) => ({ kind: c.kind, status: c.status, summary: c.summary })),
    waivers: d.waivers,
    approvals: d.approvals.map((a) => ({
      decision: a.decision,
      approver: a.approverKey,
      at: a.at.toISOString(),
    })),
    breakGlass: p.breakGlass,
    kind: p.kind,
    rollback: p.rollbackToPromotionId
      ? {
          fromPromotionId: p.rollbackFromPromotionId,
          toPromotionId: p.rollbackToPromotionId,
          reason: p.metadata.reason ?? null,
        }
      : null,
    upstream: p.gate?.upstream ?? null,
    soak: p.gate?.soak ?? null,
    freeze: p.gate?.freeze ?? { overridden: false, windows: [] },
    requester: { identity: p.requesterKey, claims: p.claims },
    requestedAt: p.createdAt.toISOString(),
    promotedAt: promotedAt.toISOString(),
  };
}

/**
 * The promoter: copies exactly the approved digest (with every platform, its signatures and
 * attestations) to the target with short-lived credentials, attaches Airlock's signed attestation,
 * and records the outcome. Safe to run again at any point: everything it writes is addressed by
 * digest, and the tag and attestation are written last.
 */
@Injectable()
export class PromoterService {
  private readonly logger = new Logger(PromoterService.name);

  constructor(
    private readonly repo: PromotionRepository,
    private readonly environments: EnvironmentService,
    private readonly registries: SourceRegistries,
    private readonly stateMachine: PromotionStateMachine,
    private readonly key: SigningKey,
    private readonly gate: PromotionGateService,
    private readonly copier: PromoterCopier,
  ) {}

  async run(promotionId: string, lastAttempt: boolean): Promise<void> {
    let p = await this.repo.findById(promotionId);
    if (p?.status === PromotionStatus.Approved) {
      p = (await this.start(p)) ?? (await this.repo.findById(promotionId));
    }
    if (!p || p.status !== PromotionStatus.Promoting) return; // done, or cancelled meanwhile

    let stats: CopyStats;
    try {
      stats = await this.promote(p);
    } catch (e) {
      const failure = classifyFailure(e);
      const reason = failure.message;
      // A permanent failure (a refused credential, a tag conflict, content that does not match its
      // digest) ends the copy now: a person has to act, and the reason says what.
      if (!failure.permanent && !lastAttempt) {
        this.logger.warn({ msg: 'promotion attempt failed; will retry', promotionId, error: reason });
        throw e;
      }
      this.logger.warn({ msg: 'promotion failed', promotionId, permanent: failure.permanent, error: reason });
      await this.move(p.id, PromotionStatus.Promoting, PromotionStatus.Failed, `copy failed: ${reason}`, [
        `promotion failed: ${reason}`,
      ]);
      return;
    }
    // Outside the copy's failure handling: the copy succeeded, so a database blip while recording
    // it is retried (the job, or the reconciler) rather than marking a finished copy failed.
    await this.move(
      p.id,
      PromotionStatus.Promoting,
      PromotionStatus.Promoted,
      'promoted',
      [`promoted to ${p.targetRegistry}/${p.targetRepository}@${p.digest}`],
      { copy: stats },
    );
  }

  /**
   * Asks the gate (chain, soak, freeze windows) before the copy starts: a promotion that may not
   * start yet waits (the release job brings it back when the wait ends); one whose upstream no
   * longer holds its digest is rejected; otherwise the copy starts, with what the gate relied on
   * kept on the promotion for its attestation. Returns the promotion as it now is (null: someone
   * else moved it first).
   */
  private async start(p: PromotionEntity): Promise<PromotionEntity | null> {
    const decision = await this.gate.decide(p, gateOptionsFor(p));
    if (decision.action === 'refuse') {
      return this.move(p.id, PromotionStatus.Approved, PromotionStatus.Rejected, decision.reason, [
        `rejected before the copy: ${decision.reason}`,
      ]);
    }
    if (decision.action === 'wait') {
      return this.moveTo({
        promotionId: p.id,
        from: PromotionStatus.Approved,
        to: PromotionStatus.Waiting,
        actor: SYSTEM_ACTOR,
        reason: `waiting for the ${decision.for} until ${decision.until.toISOString()}: ${decision.reason}`,
        reasons: [`waiting for the ${decision.for} until ${decision.until.toISOString()}`],
        details: { waitingFor: decision.for, waitingUntil: decision.until.toISOString() },
        waiting: {
          for: decision.for,
          until: decision.until,
          delayMs: decision.until.getTime() - this.gate.now(),
        },
      });
    }
    const overridden = decision.evidence.freeze.overridden;
    if (overridden) {
      // Loud: a person decided that this promotion starts inside a freeze.
      this.logger.error({
        msg: 'BREAK-GLASS promotion starts inside a freeze window',
        promotionId: p.id,
        windows: decision.evidence.freeze.windows,
      });
    }
    return this.moveTo({
      promotionId: p.id,
      from: PromotionStatus.Approved,
      to: PromotionStatus.Promoting,
      actor: SYSTEM_ACTOR,
      reason: overridden
        ? `copy started; FREEZE OVERRIDDEN by break-glass (${decision.evidence.freeze.windows.join(', ')})`
        : 'copy started',
      details: {
        gate: decision.evidence,
        ...(overridden ? { severity: 'critical', freezeOverridden: true } : {}),
      },
      gate: decision.evidence,
    });
  }

  /**
   * The job gave up (stalled too often, failed unexpectedly on its last attempt, or met a
   * permanent failure, which no retry mends).
   */
  async abandon(promotionId: string, reason: string, permanent = false): Promise<void> {
    await this.move(
      promotionId,
      PromotionStatus.Promoting,
      PromotionStatus.Failed,
      `copy abandoned: ${reason}`,
      [`promotion failed: ${reason}${permanent ? '' : '; retry it'}`],
    );
  }

  private async promote(p: PromotionEntity): Promise<CopyStats> {
    const env = await this.environments.byIdCached(p.environmentId);
    const facts = await this.repo.attestationFacts(p.id);
    if (!facts) throw notFound('promotion', p.id);
    // Refused before any client is made: a source the environment does not name is never contacted.
    this.registries.sourceConfig(env.sources, p.sourceRegistry);
    const targetClient = this.registries.targetClient(env.target);
    try {
      if (p.tag) await this.refuseTagConflict(targetClient, p);
      if (isRollback(p)) return await this.rollBack(targetClient, p, facts, env.name, emptyStats());
      // Blobs another repository on the target registry got from an earlier promotion (a shared
      // base image) are mounted from there, not moved again.
      const mountFrom = await this.repo.recentTargetRepositories(
        p.targetRegistry,
        p.targetRepository,
        MOUNT_CANDIDATES,
      );
      // The image with its evidence (signatures, referrers, attestations), in the copy process.
      const { manifest, attestationLayers, stats } = await this.copier.copy(
        { sources: env.sources, registry: p.sourceRegistry, repository: p.sourceRepository },
        { target: env.target, repository: p.targetRepository },
        p.digest,
        { mountFrom },
      );
      if (p.tag)
        await targetClient.putManifest(p.targetRepository, p.tag, manifest.bytes, manifest.mediaType);
      await this.attest(targetClient, p, facts, env.name, attestationLayers);
      return stats;
    } finally {
      targetClient.close();
    }
  }

  /**
   * A rollback: the digest is in the target already (Airlock promoted it there), with its blobs,
   * signatures and attestations. The "copy" reads the manifest from the target itself, so every
   * blob is found present and none moves, puts it back by digest, then moves the tag and appends
   * this rollback's attestation. Nothing is read from the source, which may have pruned it since.
   */
  private async rollBack(
    targetClient: RegistryClient,
    p: PromotionEntity,
    facts: AttestationFacts,
    environment: string,
    stats: CopyStats,
  ): Promise<CopyStats> {
    const target = { client: targetClient, repository: p.targetRepository };
    const { manifest } = await copyManifest(target, target, p.digest, {}, stats);
    await targetClient.putManifest(target.repository, p.tag as string, manifest.bytes, manifest.mediaType);
    await this.attest(targetClient, p, facts, environment, []);
    return stats;
  }

  /**
   * A tag in the target that names another manifest is never moved silently: only from the digest
   * Airlock itself last promoted to it (a promotion or rollback moving it on); anything else there
   * was written behind Airlock's back and stays until a person removes it.
   */
  private async refuseTagConflict(target: RegistryClient, p: PromotionEntity): Promise<void> {
    const head = await target.headManifest(p.targetRepository, p.tag as string);
    const existing = head
      ? (head.digest ?? (await target.resolveTag(p.targetRepository, p.tag as string)))
      : null;
    if (
      existing &&
      existing !== p.digest &&
      existing !== (await this.repo.lastPromotedToTag(p.targetRegistry, p.targetRepository, p.tag as string))
    ) {
      throw Failure.permanent(
        `the target tag ${p.targetRegistry}/${p.targetRepository}:${p.tag} already holds ${existing}; remove or change the tag, then retry`,
      );
    }
  }

  /** Signs and attaches Airlock's statements about this promotion as cosign's `.att`. */
  private async attest(
    target: RegistryClient,
    p: PromotionEntity,
    d: AttestationFacts,
    environment: string,
    carried: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }>,
  ): Promise<void> {
    const facts = promotionFacts(p, d, environment, new Date());
    const statements = promotionStatements(facts);
    const layers = cosignAttestationLayers(
      statements.map((s) => ({
        predicateType: s.predicateType,
        envelope: signStatement(s.payload, this.key),
      })),
      p.id,
    );
    // As cosign does, the new statements are appended to the digest's `.att`: the attestations of
    // earlier promotions of the same digest (a re-promotion, a rollback) stay. Only what this
    // promotion wrote on an earlier attempt is replaced.
    const existing = await target.tagSchemeManifest(p.targetRepository, p.digest, 'att');
    const all = appendAttestationLayers(
      existing && !isImageIndex(existing.json) ? existing.json.layers : [],
      carried,
      layers,
      p.id,
    );
    const config = Buffer.from(
      JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const tag = digestTag(p.digest, 'att');
    const pushed = await pushArtifact(target, p.targetRepository, tag, {
      config: { mediaType: OCI_CONFIG, bytes: config },
      layers: all,
    });
    await this.repo.setAttestation(p.id, {
      reference: `${p.targetRegistry}/${p.targetRepository}:${tag}`,
      digest: pushed.digest,
      predicateTypes: statements.map((s) => s.predicateType),
      keyId: this.key.keyId,
    });
  }

  private move(
    id: string,
    from: PromotionStatus,
    to: PromotionStatus,
    reason: string,
    reasons?: string[],
    details?: Record<string, unknown>,
  ): Promise<PromotionEntity | null> {
    return this.moveTo({ promotionId: id, from, to, actor: SYSTEM_ACTOR, reason, reasons, details });
  }

  private async moveTo(t: Transition): Promise<PromotionEntity | null> {
    try {
      return await this.stateMachine.transition(t);
    } catch (e) {
      // Another run (or a cancel) got there first: not an error for the worker.
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) return null;
      throw e;
    }
  }
}
