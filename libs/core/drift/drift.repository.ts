import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { type DataSource, type EntityManager } from 'typeorm';
import { type DriftFinding, type PromotedArtifact } from '../../domain';
import { JobName } from '../../jobs';
import { type AuditRecord, AuditRepository } from '../audit/audit.repository';
import { WebhookRepository } from '../webhook/webhook.repository';
import { type Actor } from '../identity/actor';
import {
  type DriftCheckStatus,
  DriftCheckEntity,
  type DriftCounts,
  DriftFindingEntity,
  type DriftTrigger,
} from './drift.entity';

/** Promotions read at most for one check: beyond it the oldest are left out (and the check says so). */
export const MAX_PROMOTED_READ = 100_000;

const ACTIVE: DriftCheckStatus[] = ['queued', 'running'];

@Injectable()
export class DriftRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditRepository,
    private readonly webhooks: WebhookRepository,
  ) {}

  /**
   * Queues a check for the environment, with its job's outbox row and its audit event, unless one is
   * already queued or running: that one is returned (`created` false) and nothing is written. One
   * queued or running longer than `staleAfterSeconds` is closed as failed first.
   */
  queue(
    environmentId: string,
    trigger: DriftTrigger,
    actor: Actor,
    staleAfterSeconds: number,
    audit: (check: DriftCheckEntity) => AuditRecord,
  ): Promise<{ check: DriftCheckEntity; created: boolean }> {
    return this.db.transaction(async (m) => {
      // One queuer at a time per environment, so two requests cannot both find none active.
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('drift:' || $1::text))`, [environmentId]);
      // A check no worker finished long after it was queued lost its job (Redis lost it, say):
      // it is closed as failed rather than answered forever.
      await m.query(
        `UPDATE drift_check SET status = 'failed', finished_at = now(),
           reason = 'no worker finished it within ' || $2::text || ' seconds of being queued'
         WHERE environment_id = $1 AND status IN ('queued', 'running')
           AND created_at < now() - make_interval(secs => $2::double precision)`,
        [environmentId, staleAfterSeconds],
      );
      const active = await m.findOne(DriftCheckEntity, {
        where: ACTIVE.map((status) => ({ environmentId, status })),
        order: { seq: 'DESC' },
      });
      if (active) return { check: active, created: false };
      const check = m.create(DriftCheckEntity, {
        id: randomUUID(),
        environmentId,
        trigger,
        requestedBy: actor,
        status: 'queued',
        summary: '',
        counts: {},
        reason: null,
        startedAt: null,
        finishedAt: null,
      });
      await m.insert(DriftCheckEntity, check);
      await m.query(`INSERT INTO outbox (job_name, job_id, payload) VALUES ($1, $2, $3)`, [
        JobName.DriftCheck,
        `drift-check-${check.id}`,
        { checkId: check.id },
      ]);
      await this.audit.record(audit(check), m);
      return { check: await m.findOneByOrFail(DriftCheckEntity, { id: check.id }), created: true };
    });
  }

  findById(id: string): Promise<DriftCheckEntity | null> {
    return this.db.manager.findOneBy(DriftCheckEntity, { id });
  }

  /** Marks a queued (or interrupted, still running) check running; null when it is finished. */
  async start(id: string, at: Date): Promise<DriftCheckEntity | null> {
    const rows: Array<{ id: string }> = await this.db.query(
      `UPDATE drift_check SET status = 'running', started_at = $2
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      [id, at],
    );
    return rows.length ? this.findById(id) : null;
  }

  /**
   * What Airlock promoted (status promoted) into the repositories this environment promoted into on
   * its target registry, newest first: from any environment, since a tag another environment wrote
   * into the same repository was still written by Airlock.
   */
  async promoted(environmentId: string, targetRegistry: string): Promise<PromotedArtifact[]> {
    const rows: Array<{ id: string; repository: string; tag: string | null; digest: string; seq: string }> =
      await this.db.query(
        `SELECT id, target_repository AS repository, tag, digest, seq FROM promotion
         WHERE status = 'promoted' AND target_registry = $2 AND target_repository IN (
           SELECT DISTINCT target_repository FROM promotion
           WHERE environment_id = $1 AND status = 'promoted' AND target_registry = $2)
         ORDER BY seq DESC LIMIT $3`,
        [environmentId, targetRegistry, MAX_PROMOTED_READ],
      );
    return rows.map((r) => ({
      promotionId: r.id,
      repository: r.repository,
      tag: r.tag,
      digest: r.digest,
      seq: Number(r.seq),
    }));
  }

  /**
   * Ends a check: its findings (at most `maxFindings` stored), status, summary and counts, and its
   * audit events, in one transaction. Running it again replaces what an earlier attempt wrote.
   */
  async finish(
    id: string,
    outcome: {
      status: Extract<DriftCheckStatus, 'completed' | 'truncated' | 'failed'>;
      summary: string;
      counts: Partial<DriftCounts>;
      reason: string | null;
      findings: readonly DriftFinding[];
      at: Date;
    },
    audit: AuditRecord[],
  ): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const updated: Array<{ id: string }> = await m.query(
        `UPDATE drift_check SET status = $2, summary = $3, counts = $4, reason = $5, finished_at = $6
         WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
        [id, outcome.status, outcome.summary, outcome.counts, outcome.reason, outcome.at],
      );
      if (updated.length === 0) return false; // finished by another run meanwhile
      await m.delete(DriftFindingEntity, { checkId: id });
      if (outcome.findings.length) await this.insertFindings(m, id, outcome.findings);
      for (const record of audit) {
        await this.audit.record(record, m);
        // Drift found, digests newly affected: events for webhook subscribers, in the same transaction.
        await this.webhooks.recordAudited(
          record,
          record.subjectType === 'environment' ? record.subjectId : null,
          m,
        );
      }
      return true;
    });
  }

  private async insertFindings(m: EntityManager, checkId: string, findings: readonly DriftFinding[]) {
    await m.query(
      `INSERT INTO drift_finding (check_id, kind, repository, tag, expected_digest, actual_digest, promotion_id, message)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[])`,
      [
        checkId,
        findings.map((f) => f.kind),
        findings.map((f) => f.repository),
        findings.map((f) => f.tag),
        findings.map((f) => f.expectedDigest),
        findings.map((f) => f.actualDigest),
        findings.map((f) => f.promotionId),
        findings.map((f) => f.message),
      ],
    );
  }

  findings(checkId: string): Promise<DriftFindingEntity[]> {
    return this.db.manager.find(DriftFindingEntity, { where: { checkId }, order: { id: 'ASC' } });
  }

  /** The latest finished check of the environment, and the one queued or running, if any. */
  async latest(
    environmentId: string,
  ): Promise<{ finished: DriftCheckEntity | null; pending: DriftCheckEntity | null }> {
    const [finished, pending] = await Promise.all([
      this.db.manager.findOne(DriftCheckEntity, {
        where: (['completed', 'truncated', 'failed'] as const).map((status) => ({ environmentId, status })),
        order: { seq: 'DESC' },
      }),
      this.db.manager.findOne(DriftCheckEntity, {
        where: ACTIVE.map((status) => ({ environmentId, status })),
        order: { seq: 'DESC' },
      }),
    ]);
    return { finished, pending };
  }

  /**
   * Environments due a scheduled check: something promoted there, and no check queued in the last
   * `withinMs` (so several schedulers, or a restart, do not queue twice).
   */
  async due(withinMs: number): Promise<Array<{ id: string; name: string }>> {
    return this.db.query(
      `SELECT e.id, e.name FROM environment e
       WHERE EXISTS (SELECT 1 FROM promotion p WHERE p.environment_id = e.id AND p.status = 'promoted')
         AND NOT EXISTS (SELECT 1 FROM drift_check c WHERE c.environment_id = e.id
                         AND c.created_at > now() - make_interval(secs => $1::double precision / 1000))
       ORDER BY e.name`,
      [withinMs],
    );
  }
}
