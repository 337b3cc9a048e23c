import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { PromotionStatus } from '../../domain';
import { jobStartedBy, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { ApprovalEntity } from '../approval/approval.entity';
import { atDatabaseEdge } from '../database/database-outage';
import { CheckEntity } from '../check/check.entity';
import { PromotionEntity } from './promotion.entity';
import { PromotionStatusChangeEntity } from './promotion-status-change.entity';

export interface NewPromotion {
  id: string;
  environmentId: string;
  sourceRegistry: string;
  sourceRepository: string;
  digest: string;
  tag: string | null;
  targetRegistry: string;
  targetRepository: string;
  requester: PromotionEntity['requester'];
  requesterKey: string;
  claims: PromotionEntity['claims'];
  metadata: Record<string, string>;
  tokenIssuer: string | null;
  tokenJti: string | null;
  idempotencyKey: string | null;
  requestHash: string;
}

export interface CreatedPromotion {
  policySha256: string;
  policyVersion: number;
  createdAt: Date;
}

export interface PromotionFilter {
  status?: PromotionStatus;
  environmentId?: string;
  requesterKey?: string;
  digest?: string;
  /** Keyset cursor: rows with a smaller seq (newest first). */
  beforeSeq?: string;
  limit: number;
}

export interface PromotionDetail {
  promotion: PromotionEntity;
  environmentName: string;
  policyVersion: number;
  checks: CheckEntity[];
  approvals: ApprovalEntity[];
  history: PromotionStatusChangeEntity[];
}

export type ClaimResult =
  { claimed: true } | { claimed: false; requestHash: string; promotionId: string | null; ageSeconds: number };

/** An idempotency claim older than this belongs to a request that died; it may be taken over. */
const STALE_CLAIM_SECONDS = 60;

/** The promotion's columns, named as the entity's properties, for the hand-written reads below. */
const PROMOTION_COLUMNS = [
  'id',
  'seq',
  'environment_id AS "environmentId"',
  'policy_version_id AS "policyVersionId"',
  'policy_sha256 AS "policySha256"',
  'source_registry AS "sourceRegistry"',
  'source_repository AS "sourceRepository"',
  'digest',
  'tag',
  'target_registry AS "targetRegistry"',
  'target_repository AS "targetRepository"',
  'status',
  'requester',
  'requester_key AS "requesterKey"',
  'claims',
  'metadata',
  'token_issuer AS "tokenIssuer"',
  'token_jti AS "tokenJti"',
  'idempotency_key AS "idempotencyKey"',
  'request_hash AS "requestHash"',
  'attestation',
  'reasons',
  'created_at AS "createdAt"',
  'updated_at AS "updatedAt"',
]
  .map((c) => `p.${c}`)
  .join(', ');

type PromotionRow = Omit<PromotionEntity, 'environment' | 'policyVersion'>;

const toPromotion = (r: PromotionRow): PromotionEntity => {
  const p = new PromotionEntity();
  for (const key of Object.keys(r) as Array<keyof PromotionRow>) {
    (p as unknown as Record<string, unknown>)[key] = r[key];
  }
  return p;
};

@Injectable()
export class PromotionRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly wakeups: WakeBus,
  ) {}

  /** Claims an Idempotency-Key for this caller, or tells who holds it. One statement, autocommit. */
  async claimIdempotencyKey(requesterKey: string, key: string, requestHash: string): Promise<ClaimResult> {
    // A claim committed by a concurrent request after this statement's snapshot is seen by the
    // conflict check but not by the read; asking again then sees it.
    for (let attempt = 0; ; attempt++) {
      const result = await this.tryClaim(requesterKey, key, requestHash);
      if (result || attempt >= 5)
        return result ?? { claimed: false, requestHash, promotionId: null, ageSeconds: 0 };
    }
  }

  private async tryClaim(
    requesterKey: string,
    key: string,
    requestHash: string,
  ): Promise<ClaimResult | undefined> {
    const rows: Array<{ claimed: boolean; request_hash: string; promotion_id: string | null; age: number }> =
      await this.db.query(
        `WITH ins AS (
           INSERT INTO idempotency_key (requester_key, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT (requester_key, key) DO UPDATE SET created_at = now(), request_hash = EXCLUDED.request_hash
             WHERE idempotency_key.promotion_id IS NULL
               AND idempotency_key.created_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS})
           RETURNING true AS claimed
         )
         SELECT claimed, NULL AS request_hash, NULL AS promotion_id, 0 AS age FROM ins
         UNION ALL
         SELECT false, request_hash, promotion_id, extract(epoch FROM now() - created_at)::float8
         FROM idempotency_key WHERE requester_key = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
        [requesterKey, key, requestHash],
      );
    const row = rows[0];
    if (!row) return undefined;
    if (row.claimed) return { claimed: true };
    return {
      claimed: false,
      requestHash: row.request_hash,
      promotionId: row.promotion_id,
      ageSeconds: row.age,
    };
  }

  async releaseIdempotencyKey(requesterKey: string, key: string): Promise<void> {
    await this.db.query(
      'DELETE FROM idempotency_key WHERE requester_key = $1 AND key = $2 AND promotion_id IS NULL',
      [requesterKey, key],
    );
  }

  /**
   * Inserts the promotion as `received` with its first history row, audit event, check-stage job
   * and idempotency completion, in one statement. The policy version pinned is the one active on
   * the environment at this instant. Returns false when the environment has no active policy.
   */
  async create(p: NewPromotion): Promise<CreatedPromotion | null> {
    const job = jobStartedBy(null, PromotionStatus.Received);
    const rows: Array<{ policy_sha256: string; created_at: Date; policy_version: number }> =
      await this.prepared(
        'airlock_promotion_create',
        `WITH env AS (
         SELECT e.id, pv.id AS policy_version_id, pv.sha256, pv.version
         FROM environment e JOIN policy_version pv ON pv.id = e.active_policy_version_id
         WHERE e.id = $2
       ), p AS (
         INSERT INTO promotion (id, environment_id, policy_version_id, policy_sha256, source_registry,
           source_repository, digest, tag, target_registry, target_repository, status, requester,
           requester_key, claims, metadata, token_issuer, token_jti, idempotency_key, request_hash)
         SELECT $1, env.id, env.policy_version_id, env.sha256, $3, $4, $5, $6, $7, $8, 'received',
           $9::jsonb, $10, $11::jsonb, $12::jsonb, $13, $14, $15, $16
         FROM env
         RETURNING id, policy_version_id, policy_sha256, created_at
       ), hist AS (
         INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         SELECT id, NULL, 'received', $9::jsonb, 'requested' FROM p
         RETURNING id, promotion_id
       ), aud AS (
         INSERT INTO audit_pending (actor, action, subject_type, subject_id, details)
         SELECT $9::jsonb, 'promotion.requested', 'promotion', p.id::text,
           jsonb_build_object('artifact', $3 || '/' || $4 || '@' || $5, 'environmentId', $2::text,
             'policyVersionId', p.policy_version_id, 'policySha256', p.policy_sha256, 'claims', $11::jsonb)
         FROM p
       ), job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT $17::text, replace($17::text, '.', '-') || '-' || hist.promotion_id || '-' || hist.id,
           jsonb_build_object('promotionId', hist.promotion_id)
         FROM hist WHERE $17::text IS NOT NULL
       ), idem AS (
         UPDATE idempotency_key SET promotion_id = p.id FROM p
         WHERE $15::text IS NOT NULL AND requester_key = $10 AND key = $15
       )
       SELECT p.policy_sha256, p.created_at, env.version AS policy_version FROM p, env`,
        [
          p.id,
          p.environmentId,
          p.sourceRegistry,
          p.sourceRepository,
          p.digest,
          p.tag,
          p.targetRegistry,
          p.targetRepository,
          JSON.stringify(p.requester),
          p.requesterKey,
          JSON.stringify(p.claims),
          JSON.stringify(p.metadata),
          p.tokenIssuer,
          p.tokenJti,
          p.idempotencyKey,
          p.requestHash,
          job,
        ],
      );
    if (rows.length !== 1) return null;
    this.wakeups.wake(OUTBOX_TOPIC);
    return {
      policySha256: rows[0].policy_sha256,
      policyVersion: rows[0].policy_version,
      createdAt: rows[0].created_at,
    };
  }

  /**
   * Runs the intake statement as a named prepared statement: parsed and planned once per
   * connection instead of on every request (2 kB of SQL; about a third of intake's database time).
   */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    // Around TypeORM, so through the edge by hand: an unreachable Postgres is database_unavailable.
    return (await atDatabaseEdge(() => pool.query({ name, text, values }))).rows as T[];
  }

  async setAttestation(id: string, attestation: PromotionEntity['attestation']): Promise<void> {
    await this.db.query('UPDATE promotion SET attestation = $2::jsonb WHERE id = $1', [
      id,
      JSON.stringify(attestation),
    ]);
  }

  findById(id: string): Promise<PromotionEntity | null> {
    return this.db.getRepository(PromotionEntity).findOneBy({ id });
  }

  /**
   * The promotion with its checks, approvals and history in one statement: this is the most read
   * route, and TypeORM's hydration of four queries cost ten times the database work.
   */
  async detail(id: string): Promise<PromotionDetail | null> {
    const rows: Array<
      PromotionRow & {
        environment_name: string;
        policy_version: number;
        checks: Array<Record<string, unknown>>;
        approvals: Array<Record<string, unknown>>;
        history: Array<Record<string, unknown>>;
      }
    > = await this.db.query(
      `SELECT ${PROMOTION_COLUMNS}, e.name AS environment_name, pv.version AS policy_version,
         COALESCE((SELECT json_agg(c ORDER BY c.kind) FROM promotion_check c WHERE c.promotion_id = p.id), '[]') AS checks,
         COALESCE((SELECT json_agg(a ORDER BY a.created_at) FROM approval a WHERE a.promotion_id = p.id), '[]') AS approvals,
         COALESCE((SELECT json_agg(h ORDER BY h.id) FROM promotion_status_change h WHERE h.promotion_id = p.id), '[]') AS history
       FROM promotion p JOIN environment e ON e.id = p.environment_id
       JOIN policy_version pv ON pv.id = p.policy_version_id WHERE p.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      promotion: toPromotion(r),
      environmentName: r.environment_name,
      policyVersion: r.policy_version,
      checks: r.checks.map(
        (c) =>
          ({
            id: c.id,
            promotionId: c.promotion_id,
            kind: c.kind,
            status: c.status,
            summary: c.summary,
            findings: c.findings,
            attempts: c.attempts,
            finishedAt: new Date(c.finished_at as string),
          }) as CheckEntity,
      ),
      approvals: r.approvals.map(
        (a) =>
          ({
            id: a.id,
            promotionId: a.promotion_id,
            decision: a.decision,
            approver: a.approver,
            approverKey: a.approver_key,
            person: a.person,
            groups: a.groups,
            comment: a.comment,
            digest: a.digest,
            policySha256: a.policy_sha256,
            createdAt: new Date(a.created_at as string),
          }) as ApprovalEntity,
      ),
      history: r.history.map(
        (h) =>
          ({
            id: String(h.id),
            promotionId: h.promotion_id,
            fromStatus: h.from_status,
            toStatus: h.to_status,
            actor: h.actor,
            reason: h.reason,
            at: new Date(h.at as string),
          }) as PromotionStatusChangeEntity,
      ),
    };
  }

  /** Newest first, by the insertion sequence, so paging neither skips nor repeats rows. */
  async list(f: PromotionFilter): Promise<Array<PromotionEntity & { policyVersion: number }>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.status) add('p.status = ?::promotion_status', f.status);
    if (f.environmentId) add('p.environment_id = ?', f.environmentId);
    if (f.requesterKey) add('p.requester_key = ?', f.requesterKey);
    if (f.digest) add('p.digest = ?', f.digest);
    if (f.beforeSeq) add('p.seq < ?', f.beforeSeq);
    params.push(f.limit);
    const rows: Array<PromotionRow & { policy_version: number }> = await this.db.query(
      `SELECT ${PROMOTION_COLUMNS}, pv.version AS policy_version
       FROM promotion p JOIN policy_version pv ON pv.id = p.policy_version_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY p.seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => Object.assign(toPromotion(r), { policyVersion: r.policy_version }));
  }
}
