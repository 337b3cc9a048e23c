import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import { type PolicyDocument, PromotionStatus } from '../../domain';
import { inTransaction, type Tx } from '../database/unit-of-work';
import { PromotionEntity } from '../promotion/promotion.entity';
import { PROMOTION_COLUMNS, type PromotionRow, toPromotion } from '../promotion/promotion-row';
import { ApprovalEntity } from './approval.entity';
import { BreakGlassReviewEntity } from './break-glass-review.entity';

/** A promotion awaiting approval, as the pending list reads it. */
export interface AwaitingPromotion {
  promotion: PromotionEntity;
  environmentName: string;
  policyVersion: number;
  /** The approvals section of its pinned policy version. */
  approvals: PolicyDocument['approvals'];
  /** Its rollback section (what a rollback needs instead). */
  rollback: PolicyDocument['rollback'];
  /** Every decision on it, oldest first. */
  decisions: ApprovalEntity[];
  /** Its check results. */
  evidence: Array<{ kind: string; status: string; summary: string }>;
}

/** An approval row as json_agg gives it. */
export const toApproval = (a: Record<string, unknown>): ApprovalEntity =>
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
  }) as ApprovalEntity;

@Injectable()
export class ApprovalRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One transaction; work it announces (PromotionStateMachine's wake-ups) waits for its commit. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, work);
  }

  /** Locks the promotion row: decisions on one promotion happen one at a time. */
  lockPromotion(id: string, m: EntityManager): Promise<PromotionEntity | null> {
    return m
      .getRepository(PromotionEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.id = :id', { id })
      .getOne();
  }

  decisions(promotionId: string, m: EntityManager = this.db.manager): Promise<ApprovalEntity[]> {
    return m.getRepository(ApprovalEntity).find({ where: { promotionId }, order: { createdAt: 'ASC' } });
  }

  async insert(a: Omit<ApprovalEntity, 'id'>, m: EntityManager): Promise<ApprovalEntity> {
    const repo = m.getRepository(ApprovalEntity);
    return repo.save(repo.create(a));
  }

  /**
   * Promotions awaiting approval, newest first, each with what an approver's list shows and decides
   * on: its environment's name, pinned policy version and approval rules, decisions so far and
   * check results. One statement for the whole page. `environments`: names (null: all).
   */
  async awaiting(environments: string[] | null, limit: number): Promise<AwaitingPromotion[]> {
    const rows: Array<
      PromotionRow & {
        environment_name: string;
        policy_version: number;
        approval_rules: PolicyDocument['approvals'];
        rollback_rules: PolicyDocument['rollback'];
        decisions: Array<Record<string, unknown>>;
        evidence: AwaitingPromotion['evidence'];
      }
    > = await this.db.query(
      `SELECT ${PROMOTION_COLUMNS}, e.name AS environment_name, pv.version AS policy_version,
         pv.document->'approvals' AS approval_rules, pv.document->'rollback' AS rollback_rules,
         COALESCE((SELECT json_agg(a ORDER BY a.created_at) FROM approval a WHERE a.promotion_id = p.id), '[]') AS decisions,
         COALESCE((SELECT json_agg(json_build_object('kind', c.kind, 'status', c.status, 'summary', c.summary)
                   ORDER BY c.kind) FROM promotion_check c WHERE c.promotion_id = p.id), '[]') AS evidence
       FROM promotion p JOIN environment e ON e.id = p.environment_id
       JOIN policy_version pv ON pv.id = p.policy_version_id
       WHERE p.status = $1 AND ($2::text[] IS NULL OR e.name = ANY($2::text[]))
       ORDER BY p.seq DESC LIMIT $3`,
      [PromotionStatus.AwaitingApproval, environments, limit],
    );
    return rows.map((r) => ({
      promotion: toPromotion(r),
      environmentName: r.environment_name,
      policyVersion: r.policy_version,
      approvals: r.approval_rules,
      rollback: r.rollback_rules ?? undefined,
      decisions: r.decisions.map(toApproval),
      evidence: r.evidence,
    }));
  }

  /** The policy versions that promotions awaiting approval were pinned to. */
  async awaitingPolicyVersions(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      'SELECT DISTINCT policy_version_id AS id FROM promotion WHERE status = $1',
      [PromotionStatus.AwaitingApproval],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Up to `limit` promotions pinned to a policy version that have awaited approval since `cutoff`
   * or longer, oldest first. While a promotion awaits approval its `updated_at` is when it started
   * waiting: only status transitions write that column.
   */
  async awaitingSince(policyVersionId: string, cutoff: Date, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM promotion
       WHERE status = $1 AND policy_version_id = $2 AND updated_at <= $3
       ORDER BY updated_at, seq LIMIT $4`,
      [PromotionStatus.AwaitingApproval, policyVersionId, cutoff, limit],
    );
    return rows.map((r) => r.id);
  }

  async insertReview(
    r: Pick<BreakGlassReviewEntity, 'promotionId' | 'openedBy' | 'openedByPerson' | 'reason'>,
    m: EntityManager,
  ): Promise<BreakGlassReviewEntity> {
    const repo = m.getRepository(BreakGlassReviewEntity);
    return repo.save(repo.create({ ...r, signedOffAt: null, signedOffBy: null, signOffComment: null }));
  }

  reviews(openOnly: boolean): Promise<BreakGlassReviewEntity[]> {
    return this.db.getRepository(BreakGlassReviewEntity).find({
      where: openOnly ? { signedOffAt: IsNull() } : {},
      order: { openedAt: 'DESC' },
      take: 500,
    });
  }

  review(id: string): Promise<BreakGlassReviewEntity | null> {
    return this.db.getRepository(BreakGlassReviewEntity).findOneBy({ id });
  }

  lockReview(id: string, m: EntityManager): Promise<BreakGlassReviewEntity | null> {
    return m
      .getRepository(BreakGlassReviewEntity)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .where('r.id = :id', { id })
      .getOne();
  }

  async signOff(
    id: string,
    by: BreakGlassReviewEntity['signedOffBy'],
    comment: string,
    m: EntityManager,
  ): Promise<void> {
    await m.query(
      'UPDATE break_glass_review SET signed_off_by = $2::jsonb, signed_off_at = now(), sign_off_comment = $3 WHERE id = $1',
      [id, JSON.stringify(by), comment],
    );
  }
}
