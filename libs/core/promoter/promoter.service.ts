import { Injectable, Logger } from '@nestjs/common';
import { classifyFailure, DomainError, ErrorCode, Failure, notFound, PromotionStatus } from '../../domain';
import {
  copyManifest,
  type CopyStats,
  copyTag,
  digestTag,
  emptyStats,
  isImageIndex,
  pushArtifact,
  type RegistryClient,
} from '../../oci';
import {
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
import { PromotionStateMachine } from '../promotion/promotion-state-machine';
import { SourceRegistries } from '../registry/source-registries';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/**
 * Repositories tried for a cross-repository mount of each blob the target lacks. One: a miss costs
 * a request and its cancellation per blob, and the newest promotion is the likeliest to share it.
 */
const MOUNT_CANDIDATES = 1;

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
    approvals: d.approvals.map((a) => ({
      decision: a.decision,
      approver: a.approverKey,
      at: a.at.toISOString(),
    })),
    breakGlass: p.breakGlass,
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
  ) {}

  async run(promotionId: string, lastAttempt: boolean): Promise<void> {
    let p = await this.repo.findById(promotionId);
    if (p?.status === PromotionStatus.Approved) {
      p =
        (await this.move(p.id, PromotionStatus.Approved, PromotionStatus.Promoting, 'copy started')) ??
        (await this.repo.findById(promotionId));
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
    const sourceClient = this.registries.clientFor(env.sources, p.sourceRegistry);
    const targetClient = this.registries.targetClient(env.target);
    try {
      const source = { client: sourceClient, repository: p.sourceRepository };
      const target = { client: targetClient, repository: p.targetRepository };
      const stats = emptyStats();
      if (p.tag) await this.refuseTagConflict(targetClient, p);
      // Blobs another repository on the target registry got from an earlier promotion (a shared
      // base image) are mounted from there, not moved again.
      const copy = {
        mountFrom: await this.repo.recentTargetRepositories(
          p.targetRegistry,
          p.targetRepository,
          MOUNT_CANDIDATES,
        ),
      };

      const { manifest } = await copyManifest(source, target, p.digest, copy, stats);
      // The evidence travels with the image: cosign signatures, referrers (and their tag-schema
      // index on registries without the referrers API).
      await copyTag(source, target, digestTag(p.digest, 'sig'), {}, stats);
      const referrers = await sourceClient.referrers(source.repository, p.digest);
      for (const r of referrers.manifests) await copyManifest(source, target, r.digest, {}, stats);
      if (referrers.source === 'tag-schema') await copyTag(source, target, digestTag(p.digest), {}, stats);
      const sourceAtt = await sourceClient.tagSchemeManifest(source.repository, p.digest, 'att');
      if (sourceAtt) await copyManifest(source, target, sourceAtt.digest, {}, stats);

      if (p.tag) await targetClient.putManifest(target.repository, p.tag, manifest.bytes, manifest.mediaType);
      await this.attest(
        targetClient,
        p,
        facts,
        env.name,
        sourceAtt && !isImageIndex(sourceAtt.json) ? sourceAtt.json.layers : [],
      );
      return stats;
    } finally {
      sourceClient.close();
      targetClient.close();
    }
  }

  /** A tag in the target that names another manifest is never moved silently. */
  private async refuseTagConflict(target: RegistryClient, p: PromotionEntity): Promise<void> {
    const head = await target.headManifest(p.targetRepository, p.tag as string);
    const existing = head
      ? (head.digest ?? (await target.resolveTag(p.targetRepository, p.tag as string)))
      : null;
    if (existing && existing !== p.digest) {
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
    );
    // Airlock's own layers replace any it wrote on an earlier attempt; carried ones stay.
    const mine = new Set(statements.map((s) => s.predicateType));
    const kept = carried.filter((l) => !mine.has(l.annotations?.predicateType ?? ''));
    const all = [...kept, ...layers];
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

  private async move(
    id: string,
    from: PromotionStatus,
    to: PromotionStatus,
    reason: string,
    reasons?: string[],
    details?: Record<string, unknown>,
  ): Promise<PromotionEntity | null> {
    try {
      return await this.stateMachine.transition({
        promotionId: id,
        from,
        to,
        actor: SYSTEM_ACTOR,
        reason,
        reasons,
        details,
      });
    } catch (e) {
      // Another run (or a cancel) got there first: not an error for the worker.
      if (e instanceof DomainError && e.code === ErrorCode.Conflict) return null;
      throw e;
    }
  }
}
