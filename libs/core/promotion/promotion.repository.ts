import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { isTerminal, PROMOTION_STATUSES, type PromotionKind, PromotionStatus } from '../../domain';
import { type ApprovalEntity } from '../approval/approval.entity';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { CheckEntity } from '../check/check.entity';
import { type PreparedStatement, queryPrepared } from '../database/prepared';
import { STALE_CLAIM_SECONDS } from './idempotency-key.entity';
import { PromotionEntity } from './promotion.entity';
import { PromotionStatusChangeEntity } from './promotion-status-change.entity';
import { PROMOTION_COLUMNS, type PromotionRow, toPromotion } from './promotion-row';

export interface PromotionFilter {
  status?: PromotionStatus;
  environmentId?: string;
  requesterKey?: string;
  digest?: string;
  kind?: PromotionKind;
  /** Keyset cursor: rows with a smaller seq (newest first). */
  beforeSeq?: string;
  limit: number;
}

export interface PromotionDetail {
  promotion: PromotionEntity;
  environmentName: string;
  policyVersion: number;
  checks: Array<
    Pick<CheckEntity, 'kind' | 'status' | 'summary' | 'findings' | 'waivers' | 'attempts' | 'finishedAt'>
  >;
  approvals: Array<
    Pick<ApprovalEntity, 'decision' | 'approverKey' | 'comment' | 'digest' | 'policySha256' | 'createdAt'>
  >;
  history: Array<Pick<PromotionStatusChangeEntity, 'fromStatus' | 'toStatus' | 'actor' | 'reason' | 'at'>>;
}

/** What the promoter attests besides the promotion row: read for it, not from the API's view. */
export interface AttestationFacts {
  policyVersion: number;
  checks: Array<{ kind: string; status: string; summary: string }>;
  /** What waivers let pass: a check (finding null) or one finding, with the waiver's reason and expiry. */
  waivers: Array<{
    check: string;
    finding: string | null;
    waiver: string;
    reason: string;
    expiresAt: string;
  }>;
  approvals: Array<{ decision: string; approverKey: string; at: Date }>;
}

export interface TagHistoryFilter {
  environmentId: string;
  targetRepository?: string;
  tag?: string;
  limit: number;
}

/** One write of a target tag by Airlock: the promotion (or rollback) and when it was promoted. */
export interface TagHistoryEntry {
  promotion: PromotionEntity;
  promotedAt: Date;
}

export type ClaimResult =
  { claimed: true } | { claimed: false; requestHash: string; promotionId: string | null; ageSeconds: number };

/** Statuses a promotion may still move on from (not final, and not failed waiting for a person). */
const OPEN_STATUSES = PROMOTION_STATUSES.filter((s) => !isTerminal(s) && s !== PromotionStatus.Failed);

/**
 * Claims an Idempotency-Key, or answers who holds it. A claim committed by a concurrent request
 * after this statement's snapshot is seen by the conflict check but not by the read (no row).
 */
const CLAIM_STATEMENT: PreparedStatement = {
  name: 'airlock_idempotency_claim',
  text: `WITH ins AS (
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
};

/** Gives up a claim that created nothing, so the caller may try again with the same key. */
const RELEASE_STATEMENT: PreparedStatement = {
  name: 'airlock_idempotency_release',
  text: 'DELETE FROM idempotency_key WHERE requester_key = $1 AND key = $2 AND promotion_id IS NULL',
};

/**
 * The promotion with its children as JSON (the fields the API shows), in one statement: the most
 * read route. Prepared, because planning the three subqueries cost more than running them; the
 * environment's name and the policy version's number come from memory (they never change).
 */
const DETAIL_STATEMENT: PreparedStatement = {
  name: 'airlock_promotion_detail',
  text: `SELECT ${PROMOTION_COLUMNS},
    (SELECT json_agg(json_build_object('kind', c.kind, 'status', c.status, 'summary', c.summary,
        'findings', c.findings, 'waivers', c.waivers, 'attempts', c.attempts, 'finishedAt', c.finished_at)
      ORDER BY c.kind) FROM promotion_check c WHERE c.promotion_id = p.id) AS checks,
    (SELECT json_agg(json_build_object('decision', a.decision, 'approverKey', a.approver_key,
        'comment', a.comment, 'digest', a.digest, 'policySha256', a.policy_sha256, 'createdAt', a.created_at)
      ORDER BY a.created_at) FROM approval a WHERE a.promotion_id = p.id) AS approvals,
    (SELECT json_agg(json_build_object('fromStatus', h.from_status, 'toStatus', h.to_status,
        'actor', h.actor, 'reason', h.reason, 'at', h.at)
      ORDER BY h.id) FROM promotion_status_change h WHERE h.promotion_id = p.id) AS history
    FROM promotion p WHERE p.id = $1`,
};

const ENVIRONMENT_NAME_STATEMENT: PreparedStatement = {
  name: 'airlock_environment_name',
  text: 'SELECT name FROM environment WHERE id = $1',
};

const POLICY_VERSION_NUMBER_STATEMENT: PreparedStatement = {
  name: 'airlock_policy_version_number',
  text: 'SELECT version FROM policy_version WHERE id = $1',
};

/** The list's filters, each with its condition; their order numbers the prepared variants. */
const LIST_FILTERS: ReadonlyArray<readonly [keyof PromotionFilter, string]> = [
  ['status', 'p.status = ?::promotion_status'],
  ['environmentId', 'p.environment_id = ?'],
  ['requesterKey', 'p.requester_key = ?'],
  ['digest', 'p.digest = ?'],
  ['kind', 'p.kind = ?::promotion_kind'],
  ['beforeSeq', 'p.seq < ?'],
];

const listStatements = new Map<number, PreparedStatement>();

/** The list statement for a set of filters (bit i: LIST_FILTERS[i]), one prepared variant each. */
function listStatement(filters: number): PreparedStatement {
  let statement = listStatements.get(filters);
  if (statement) return statement;
  const where: string[] = [];
  LIST_FILTERS.forEach(([, sql], i) => {
    if (filters & (1 << i)) where.push(sql.replace('?', `$${where.length + 1}`));
  });
  statement = {
    name: `airlock_promotion_list_${filters}`,
    text: `SELECT ${PROMOTION_COLUMNS} FROM promotion p
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY p.seq DESC LIMIT $${where.length + 1}`,
  };
  listStatements.set(filters, statement);
  return statement;
}

@Injectable()
export class PromotionRepository {
  private readonly environmentNames = boundedCache<string, string>(CACHE_BOUNDS.environmentNames);
  private readonly policyVersionNumbers = boundedCache<string, number>(CACHE_BOUNDS.policyVersions);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

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
      await queryPrepared(this.db, CLAIM_STATEMENT, [requesterKey, key, requestHash]);
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
    await queryPrepared(this.db, RELEASE_STATEMENT, [requesterKey, key]);
  }

  async setAttestation(id: string, attestation: PromotionEntity['attestation']): Promise<void> {
    // Only while copying: a run that lost its job to a take-over must not rewrite a finished record.
    await this.db.query(
      `UPDATE promotion SET attestation = $2::jsonb WHERE id = $1 AND status = 'promoting'`,
      [id, JSON.stringify(attestation)],
    );
  }

  /** The status a promotion last moved to failed from (the stage that failed), or null. */
  async failedFrom(id: string): Promise<PromotionStatus | null> {
    const rows: Array<{ from_status: PromotionStatus | null }> = await this.db.query(
      `SELECT from_status FROM promotion_status_change
       WHERE promotion_id = $1 AND to_status = $2 ORDER BY id DESC LIMIT 1`,
      [id, PromotionStatus.Failed],
    );
    return rows[0]?.from_status ?? null;
  }

  /**
   * Other repositories of a target registry that Airlock promoted to most recently: where blobs a
   * promotion needs may already be, to mount from (newest first, at most `limit`).
   */
  async recentTargetRepositories(registry: string, except: string, limit: number): Promise<string[]> {
    const rows: Array<{ target_repository: string }> = await this.db.query(
      `SELECT target_repository FROM (
         SELECT target_repository, seq FROM promotion
         WHERE status = $1 AND target_registry = $2 AND target_repository <> $3
         ORDER BY seq DESC LIMIT 100) recent
       GROUP BY target_repository ORDER BY max(seq) DESC LIMIT $4`,
      [PromotionStatus.Promoted, registry, except, limit],
    );
    return rows.map((r) => r.target_repository);
  }

  /** The pinned policy's version, the checks and the decisions, in one statement. */
  async attestationFacts(id: string): Promise<AttestationFacts | null> {
    const rows: Array<{
      policy_version: number;
      checks: AttestationFacts['checks'];
      waivers: AttestationFacts['waivers'];
      approvals: Array<{ decision: string; approverKey: string; at: string }>;
    }> = await this.db.query(
      `SELECT pv.version AS policy_version,
         COALESCE((SELECT json_agg(json_build_object('kind', c.kind, 'status', c.status, 'summary', c.summary)
                   ORDER BY c.kind) FROM promotion_check c WHERE c.promotion_id = p.id), '[]') AS checks,
         COALESCE((SELECT json_agg(json_build_object('check', c.kind, 'finding', used->>'finding', 'waiver', w.id,
                   'reason', w.reason, 'expiresAt', w.expires_at) ORDER BY c.kind, w.seq)
                   FROM promotion_check c CROSS JOIN LATERAL jsonb_array_elements(c.waivers) AS used
                   JOIN waiver w ON w.id = (used->>'waiver')::uuid WHERE c.promotion_id = p.id), '[]') AS waivers,
         COALESCE((SELECT json_agg(json_build_object('decision', a.decision, 'approverKey', a.approver_key,
                   'at', a.created_at) ORDER BY a.created_at) FROM approval a WHERE a.promotion_id = p.id), '[]') AS approvals
       FROM promotion p JOIN policy_version pv ON pv.id = p.policy_version_id WHERE p.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      policyVersion: r.policy_version,
      checks: r.checks,
      waivers: r.waivers.map((w) => ({ ...w, expiresAt: new Date(w.expiresAt).toISOString() })),
      approvals: r.approvals.map((a) => ({ ...a, at: new Date(a.at) })),
    };
  }

  /**
   * What Airlock put on a target's tags, newest first: one entry per promotion (or rollback) that
   * wrote the tag, with when it was promoted. Filters by environment and, optionally, repository
   * and tag.
   */
  async tagHistory(f: TagHistoryFilter): Promise<TagHistoryEntry[]> {
    const where = ['p.environment_id = $1', 'p.tag IS NOT NULL'];
    const params: unknown[] = [f.environmentId];
    if (f.targetRepository !== undefined) {
      params.push(f.targetRepository);
      where.push(`p.target_repository = $${params.length}`);
    }
    if (f.tag !== undefined) {
      params.push(f.tag);
      where.push(`p.tag = $${params.length}`);
    }
    params.push(f.limit);
    const rows: Array<PromotionRow & { promoted_at: Date }> = await this.db.query(
      `SELECT ${PROMOTION_COLUMNS}, h.at AS promoted_at
       FROM promotion p JOIN promotion_status_change h ON h.promotion_id = p.id AND h.to_status = 'promoted'
       WHERE ${where.join(' AND ')}
       ORDER BY h.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ promotion: toPromotion(r), promotedAt: r.promoted_at }));
  }

  /**
   * The digest Airlock last wrote to this target tag (from any environment), or null when Airlock
   * never wrote it. The promoter moves a tag only from that digest: other content is someone else's.
   */
  async lastPromotedToTag(
    targetRegistry: string,
    targetRepository: string,
    tag: string,
  ): Promise<string | null> {
    const rows: Array<{ digest: string }> = await this.db.query(
      `SELECT p.digest FROM promotion p
       JOIN promotion_status_change h ON h.promotion_id = p.id AND h.to_status = 'promoted'
       WHERE p.target_registry = $1 AND p.target_repository = $2 AND p.tag = $3
       ORDER BY h.id DESC LIMIT 1`,
      [targetRegistry, targetRepository, tag],
    );
    return rows[0]?.digest ?? null;
  }

  /** A rollback of this tag in the environment that has not ended yet (the oldest), or null. */
  async openRollback(environmentId: string, targetRepository: string, tag: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM promotion
       WHERE environment_id = $1 AND target_repository = $2 AND tag = $3 AND kind = 'rollback'
         AND status = ANY($4::promotion_status[])
       ORDER BY seq LIMIT 1`,
      [environmentId, targetRepository, tag, OPEN_STATUSES],
    );
    return rows[0]?.id ?? null;
  }

  findById(id: string): Promise<PromotionEntity | null> {
    return this.db.getRepository(PromotionEntity).findOneBy({ id });
  }

  /**
   * The promotion with its checks, approvals and history in one statement: this is the most read
   * route, and TypeORM's hydration of four queries cost ten times the database work.
   */
  async detail(id: string): Promise<PromotionDetail | null> {
    type Child = Record<string, unknown>;
    const rows: Array<
      PromotionRow & { checks: Child[] | null; approvals: Child[] | null; history: Child[] | null }
    > = await queryPrepared(this.db, DETAIL_STATEMENT, [id]);
    const r = rows[0];
    if (!r) return null;
    const { checks, approvals, history, ...row } = r;
    const promotion = toPromotion(row);
    const [environmentName, policyVersion] = await Promise.all([
      this.environmentName(promotion.environmentId),
      this.policyVersionNumber(promotion.policyVersionId),
    ]);
    return {
      promotion,
      environmentName,
      policyVersion,
      checks: (checks ?? []).map((c) => ({
        kind: c.kind as string,
        status: c.status as CheckEntity['status'],
        summary: c.summary as string,
        findings: c.findings as unknown[],
        waivers: c.waivers as CheckEntity['waivers'],
        attempts: c.attempts as number,
        finishedAt: new Date(c.finishedAt as string),
      })),
      approvals: (approvals ?? []).map((a) => ({
        decision: a.decision as ApprovalEntity['decision'],
        approverKey: a.approverKey as string,
        comment: a.comment as string,
        digest: a.digest as string,
        policySha256: a.policySha256 as string,
        createdAt: new Date(a.createdAt as string),
      })),
      history: (history ?? []).map((h) => ({
        fromStatus: h.fromStatus as PromotionStatus | null,
        toStatus: h.toStatus as PromotionStatus,
        actor: h.actor as PromotionStatusChangeEntity['actor'],
        reason: h.reason as string,
        at: new Date(h.at as string),
      })),
    };
  }

  /** An environment's name: names never change, so each is read once. */
  private async environmentName(id: string): Promise<string> {
    const known = this.environmentNames.get(id);
    if (known !== undefined) return known;
    const rows: Array<{ name: string }> = await queryPrepared(this.db, ENVIRONMENT_NAME_STATEMENT, [id]);
    const name = rows[0]?.name ?? '';
    if (rows[0]) this.environmentNames.set(id, name);
    return name;
  }

  /** A policy version's number: versions never change, so each is read once. */
  private async policyVersionNumber(id: string): Promise<number> {
    const known = this.policyVersionNumbers.get(id);
    if (known !== undefined) return known;
    const rows: Array<{ version: number }> = await queryPrepared(this.db, POLICY_VERSION_NUMBER_STATEMENT, [
      id,
    ]);
    const version = rows[0]?.version ?? 0;
    if (rows[0]) this.policyVersionNumbers.set(id, version);
    return version;
  }

  /** Newest first, by the insertion sequence, so paging neither skips nor repeats rows. */
  async list(f: PromotionFilter): Promise<Array<PromotionEntity & { policyVersion: number }>> {
    const params: unknown[] = [];
    let filters = 0;
    LIST_FILTERS.forEach(([field], i) => {
      if (f[field] === undefined || f[field] === '') return;
      filters |= 1 << i;
      params.push(f[field]);
    });
    params.push(f.limit);
    const rows: PromotionRow[] = await queryPrepared(this.db, listStatement(filters), params);
    const versions = new Map<string, number>();
    for (const id of new Set(rows.map((r) => r.policyVersionId))) {
      versions.set(id, await this.policyVersionNumber(id));
    }
    return rows.map((r) =>
      Object.assign(toPromotion(r), { policyVersion: versions.get(r.policyVersionId) ?? 0 }),
    );
  }
}
