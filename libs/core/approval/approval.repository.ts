import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, In, IsNull } from 'typeorm';
import { PromotionStatus } from '../../domain';
import { PromotionEntity } from '../promotion/promotion.entity';
import { ApprovalEntity } from './approval.entity';
import { BreakGlassReviewEntity } from './break-glass-review.entity';

@Injectable()
export class ApprovalRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
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

  /** Promotions awaiting approval, newest first, with when they started waiting. */
  async awaiting(
    environmentIds: string[] | null,
    limit: number,
  ): Promise<Array<PromotionEntity & { awaitingSince: Date }>> {
    const rows: Array<{ id: string; since: Date }> = await this.db.query(
      `SELECT p.id, (SELECT max(c.at) FROM promotion_status_change c
                     WHERE c.promotion_id = p.id AND c.to_status = 'awaiting_approval') AS since
       FROM promotion p
       WHERE p.status = $1 AND ($2::uuid[] IS NULL OR p.environment_id = ANY($2::uuid[]))
       ORDER BY p.seq DESC LIMIT $3`,
      [PromotionStatus.AwaitingApproval, environmentIds, limit],
    );
    if (rows.length === 0) return [];
    const entities = await this.db.getRepository(PromotionEntity).findBy({ id: In(rows.map((r) => r.id)) });
    const byId = new Map(entities.map((e) => [e.id, e]));
    return rows.flatMap((r) => {
      const e = byId.get(r.id);
      return e ? [Object.assign(e, { awaitingSince: r.since })] : [];
    });
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
