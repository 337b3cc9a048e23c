import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type PolicyDocument } from '../../domain';
import { JobName } from '../../jobs';
import { type SbomPackage } from '../../sbom';
import { type AuditRecord, AuditRepository } from '../audit/audit.repository';
import { WebhookRepository } from '../webhook/webhook.repository';
import { VerificationFindingEntity, VerificationRunEntity } from './verification.entity';

/** A digest promoted into an environment and not superseded there (the latest for its tag). */
export interface CurrentPromotion {
  id: string;
  environmentId: string;
  environment: string;
  repository: string;
  tag: string | null;
  digest: string;
}

/** One finding as a run found it. */
export interface FoundFinding {
  environmentId: string;
  promotionId: string;
  kind: 'vulnerability' | 'license';
  subject: string;
  package: string;
  version: string | null;
  severity: string | null;
  fixedIn: string | null;
  blocking: boolean;
  note: string | null;
  detail: Record<string, unknown>;
}

/** Rows written per statement. */
const CHUNK = 2000;

/**
 * What is promoted now, per environment and target repository: for each tag the latest promotion
 * that wrote it, and each untagged promotion by its digest.
 */
const CURRENT = (where: string) => `
  SELECT DISTINCT ON (p.environment_id, p.target_repository, coalesce(p.tag, p.digest))
    p.id, p.environment_id AS "environmentId", e.name AS environment, p.target_repository AS repository,
    p.tag, p.digest
  FROM promotion p JOIN environment e ON e.id = p.environment_id
  WHERE p.status = 'promoted' ${where}
  ORDER BY p.environment_id, p.target_repository, coalesce(p.tag, p.digest), p.seq DESC`;

@Injectable()
export class VerificationRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditRepository,
    private readonly webhooks: WebhookRepository,
  ) {}

  findRun(id: string): Promise<VerificationRunEntity | null> {
    return this.db.manager.findOneBy(VerificationRunEntity, { id });
  }

  /**
   * Runs still queued long after they were: their job may have been lost with Redis's data. Their
   * outbox row is written again (same job id, so a job that is merely waiting is not doubled).
   */
  async requeueStale(olderThanSeconds: number): Promise<number> {
    const rows: Array<{ id: string }> = await this.db.query(
      `INSERT INTO outbox (job_name, job_id, payload)
       SELECT $1, 'verification-run-' || id, jsonb_build_object('runId', id) FROM verification_run
       WHERE status = 'queued' AND created_at < now() - make_interval(secs => $2::double precision)
       ON CONFLICT (job_id) DO NOTHING RETURNING id`,
      [JobName.Verify, olderThanSeconds],
    );
    return rows.length;
  }

  /** Marks a queued (or interrupted) run running; null when it is finished. */
  async start(id: string, at: Date): Promise<VerificationRunEntity | null> {
    const rows: Array<{ id: string }> = await this.db.query(
      `UPDATE verification_run SET status = 'running', started_at = $2
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      [id, at],
    );
    return rows.length ? this.findRun(id) : null;
  }

  current(environmentId?: string): Promise<CurrentPromotion[]> {
    return environmentId === undefined
      ? this.db.query(CURRENT(''))
      : this.db.query(CURRENT('AND p.environment_id = $1'), [environmentId]);
  }

  /** Each environment's active policy document (environments without one are left out). */
  async activePolicies(environmentIds: readonly string[]): Promise<Map<string, PolicyDocument>> {
    const rows: Array<{ id: string; document: PolicyDocument }> = await this.db.query(
      `SELECT e.id, v.document FROM environment e JOIN policy_version v ON v.id = e.active_policy_version_id
       WHERE e.id = ANY($1::uuid[])`,
      [environmentIds],
    );
    return new Map(rows.map((r) => [r.id, r.document]));
  }

  /**
   * The stored SBOM packages of these promotions, by promotion; with `changedBy`, only packages
   * some advisory that import added or changed names (the incremental match).
   */
  async packages(promotionIds: readonly string[], changedBy?: string): Promise<Map<string, SbomPackage[]>> {
    const rows: Array<{
      promotion_id: string;
      name: string;
      version: string | null;
      purl: string | null;
      ecosystem: string | null;
      package_name: string | null;
      release: string | null;
      license: string | null;
    }> = await this.db.query(
      `SELECT pp.promotion_id, pp.name, pp.version, pp.purl, pp.ecosystem, pp.package_name, pp.release, pp.license
       FROM promotion_package pp
       WHERE pp.promotion_id = ANY($1::uuid[])
         AND ($2::uuid IS NULL OR EXISTS (
           SELECT 1 FROM advisory_package ap JOIN advisory a ON a.id = ap.advisory_id
           WHERE a.import_id = $2 AND ap.ecosystem = pp.ecosystem AND ap.name = pp.package_name))
       ORDER BY pp.promotion_id, pp.ordinal`,
      [promotionIds, changedBy ?? null],
    );
    const byPromotion = new Map<string, SbomPackage[]>();
    for (const r of rows) {
      const list = byPromotion.get(r.promotion_id) ?? [];
      list.push({
        name: r.name,
        version: r.version,
        purl: r.purl,
        license: r.license,
        identity:
          r.ecosystem !== null && r.package_name !== null
            ? { ecosystem: r.ecosystem, name: r.package_name, release: r.release ?? '' }
            : null,
      });
      byPromotion.set(r.promotion_id, list);
    }
    return byPromotion;
  }

  /** Promotions among these that have stored evidence at all. */
  async withEvidence(promotionIds: readonly string[]): Promise<Set<string>> {
    const rows: Array<{ promotion_id: string }> = await this.db.query(
      `SELECT DISTINCT promotion_id FROM promotion_package WHERE promotion_id = ANY($1::uuid[])`,
      [promotionIds],
    );
    return new Set(rows.map((r) => r.promotion_id));
  }

  /** Ids of the advisories an import added or changed. */
  async changedAdvisories(importId: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query('SELECT id FROM advisory WHERE import_id = $1', [
      importId,
    ]);
    return rows.map((r) => r.id);
  }

  /**
   * Records a run's outcome in one transaction: found findings are opened (or kept open, their
   * blocking and fix brought up to date); open findings in `scope` that the run did not find again
   * are resolved. Returns the keys of findings that were not open before (newly affected).
   */
  async finish(
    runId: string,
    outcome: {
      found: readonly FoundFinding[];
      /** Which open findings this run judged: of these promotions, of these kinds/subjects. */
      scope: { promotionIds: readonly string[]; subjects?: readonly string[] };
      at: Date;
      summary: (fresh: ReadonlySet<string>) => {
        summary: string;
        counts: Record<string, unknown>;
        audit: AuditRecord[];
      };
    },
  ): Promise<Set<string>> {
    return this.db.transaction(async (m) => {
      const open: Array<{ key: string }> = await m.query(
        `SELECT promotion_id || ' ' || kind || ' ' || subject || ' ' || package AS key
         FROM verification_finding WHERE resolved_at IS NULL AND promotion_id = ANY($1::uuid[])`,
        [outcome.scope.promotionIds],
      );
      const wasOpen = new Set(open.map((r) => r.key));
      const fresh = new Set<string>();
      for (const f of outcome.found) {
        const key = findingKey(f);
        if (!wasOpen.has(key)) fresh.add(key);
      }
      for (let start = 0; start < outcome.found.length; start += CHUNK) {
        const chunk = outcome.found.slice(start, start + CHUNK);
        await m.query(
          `INSERT INTO verification_finding (environment_id, promotion_id, kind, subject, package, version,
             severity, fixed_in, blocking, note, detail, last_run_id, found_at, resolved_at)
           SELECT t.*, $12::uuid, $13::timestamptz, NULL::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::text[],
             $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[], $11::jsonb[]) AS t
           ON CONFLICT (promotion_id, kind, subject, package) DO UPDATE SET
             version = EXCLUDED.version, severity = EXCLUDED.severity, fixed_in = EXCLUDED.fixed_in,
             blocking = EXCLUDED.blocking, note = EXCLUDED.note, detail = EXCLUDED.detail,
             last_run_id = EXCLUDED.last_run_id,
             found_at = CASE WHEN verification_finding.resolved_at IS NULL THEN verification_finding.found_at
                             ELSE EXCLUDED.found_at END,
             resolved_at = NULL`,
          [
            chunk.map((f) => f.environmentId),
            chunk.map((f) => f.promotionId),
            chunk.map((f) => f.kind),
            chunk.map((f) => f.subject),
            chunk.map((f) => f.package),
            chunk.map((f) => f.version),
            chunk.map((f) => f.severity),
            chunk.map((f) => f.fixedIn),
            chunk.map((f) => f.blocking),
            chunk.map((f) => f.note),
            chunk.map((f) => JSON.stringify(f.detail)),
            runId,
            outcome.at,
          ],
        );
      }
      // Judged again and not found: resolved (a withdrawn advisory, a fixed range, a policy that
      // now accepts the license).
      await m.query(
        `UPDATE verification_finding SET resolved_at = $3
         WHERE resolved_at IS NULL AND promotion_id = ANY($1::uuid[]) AND last_run_id <> $2
           AND ($4::text[] IS NULL OR (kind = 'vulnerability' AND subject = ANY($4::text[])))`,
        [outcome.scope.promotionIds, runId, outcome.at, outcome.scope.subjects ?? null],
      );
      const { summary, counts, audit } = outcome.summary(fresh);
      await m.query(
        `UPDATE verification_run SET status = 'completed', summary = $2, counts = $3, finished_at = $4 WHERE id = $1`,
        [runId, summary, counts, outcome.at],
      );
      for (const record of audit) {
        await this.audit.record(record, m);
        // Drift found, digests newly affected: events for webhook subscribers, in the same transaction.
        await this.webhooks.recordAudited(
          record,
          record.subjectType === 'environment' ? record.subjectId : null,
          m,
        );
      }
      return fresh;
    });
  }

  async fail(runId: string, reason: string, at: Date, audit: AuditRecord): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE verification_run SET status = 'failed', reason = $2, finished_at = $3
         WHERE id = $1 AND status IN ('queued', 'running')`,
        [runId, reason, at],
      );
      await this.audit.record(audit, m);
    });
  }

  /** Open findings of the environment's current promotions, blocking and most severe first. */
  async openFindings(
    environmentId: string,
    limit: number,
  ): Promise<Array<VerificationFindingEntity & { digest: string; repository: string; tag: string | null }>> {
    return this.db.query(
      `WITH cur AS (${CURRENT('AND p.environment_id = $1')})
       SELECT f.id, f.environment_id AS "environmentId", f.promotion_id AS "promotionId", f.kind, f.subject,
              f.package, f.version, f.severity, f.fixed_in AS "fixedIn", f.blocking, f.note, f.detail,
              f.last_run_id AS "lastRunId", f.found_at AS "foundAt", f.resolved_at AS "resolvedAt",
              cur.digest, cur.repository, cur.tag
       FROM verification_finding f JOIN cur ON cur.id = f.promotion_id
       WHERE f.resolved_at IS NULL
       ORDER BY f.blocking DESC,
         array_position(ARRAY['critical','high','medium','low','none','unknown'], f.severity), f.subject, f.id
       LIMIT $2`,
      [environmentId, limit],
    );
  }

  /** Latest runs that concern the environment (all advisory runs, and its own policy runs). */
  recentRuns(environmentId: string, limit: number): Promise<VerificationRunEntity[]> {
    return this.db.manager
      .createQueryBuilder(VerificationRunEntity, 'r')
      .where('r.environment_id IS NULL OR r.environment_id = :environmentId', { environmentId })
      .orderBy('r.seq', 'DESC')
      .limit(limit)
      .getMany();
  }
}

export const findingKey = (f: Pick<FoundFinding, 'promotionId' | 'kind' | 'subject' | 'package'>): string =>
  `${f.promotionId} ${f.kind} ${f.subject} ${f.package}`;

export { VerificationFindingEntity };
