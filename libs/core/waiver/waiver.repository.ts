import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { type WaiverRule, WaiverStatus } from '../../domain';
import { WaiverEntity } from './waiver.entity';

@Injectable()
export class WaiverRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  insert(
    w: Omit<WaiverEntity, 'id' | 'seq' | 'createdAt' | 'environment'>,
    m: EntityManager,
  ): Promise<WaiverEntity> {
    const repo = m.getRepository(WaiverEntity);
    return repo.save(repo.create(w));
  }

  find(id: string, m: EntityManager = this.db.manager): Promise<WaiverEntity | null> {
    return m.getRepository(WaiverEntity).findOneBy({ id });
  }

  /**
   * Granted waivers past their expiry whose end was not announced yet, claimed (marked announced
   * at `now`) in `m`: a second maintenance process skips what this one holds.
   */
  async claimExpired(now: Date, limit: number, m: EntityManager): Promise<WaiverEntity[]> {
    const repo = m.getRepository(WaiverEntity);
    const due = await repo
      .createQueryBuilder('w')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('w.status = :granted AND w.expiresAt <= :now AND w.expiryAnnouncedAt IS NULL', {
        granted: WaiverStatus.Granted,
        now,
      })
      .orderBy('w.expiresAt')
      .limit(limit)
      .getMany();
    if (due.length > 0)
      await repo.update(
        due.map((w) => w.id),
        { expiryAnnouncedAt: now },
      );
    return due;
  }

  lock(id: string, m: EntityManager): Promise<WaiverEntity | null> {
    return m
      .getRepository(WaiverEntity)
      .createQueryBuilder('w')
      .setLock('pessimistic_write')
      .where('w.id = :id', { id })
      .getOne();
  }

  async update(id: string, fields: Partial<WaiverEntity>, m: EntityManager): Promise<void> {
    await m.getRepository(WaiverEntity).update({ id }, fields);
  }

  list(environmentId: string, beforeSeq: string | undefined, limit: number): Promise<WaiverEntity[]> {
    const q = this.db
      .getRepository(WaiverEntity)
      .createQueryBuilder('w')
      .where('w.environment_id = :environmentId', { environmentId });
    if (beforeSeq !== undefined) q.andWhere('w.seq < :before', { before: beforeSeq });
    return q.orderBy('w.seq', 'DESC').limit(limit).getMany();
  }

  /** The environment's granted waivers that have not expired at `now`. */
  async inForce(environmentId: string, now: Date): Promise<WaiverRule[]> {
    const rows = await this.db
      .getRepository(WaiverEntity)
      .createQueryBuilder('w')
      .where('w.environment_id = :environmentId AND w.status = :granted AND w.expires_at > :now', {
        environmentId,
        granted: WaiverStatus.Granted,
        now,
      })
      .orderBy('w.seq', 'ASC')
      .getMany();
    return rows.map((w) => ({
      id: w.id,
      check: w.check,
      finding: w.finding,
      digest: w.digest,
      repositoryPattern: w.repositoryPattern,
    }));
  }

  /**
   * The waivers a promotion's check results rely on that no longer apply at `now` (revoked or
   * expired), with why. Read in `m` (an approval's transaction, which holds the promotion's lock).
   */
  async lapsedFor(
    promotionId: string,
    now: Date,
    m: EntityManager = this.db.manager,
  ): Promise<Array<{ id: string; check: string; why: 'revoked' | 'expired' }>> {
    const rows: Array<{ id: string; check: string; status: WaiverStatus }> = await m.query(
      `SELECT DISTINCT w.id, w."check", w.status FROM promotion_check c
         CROSS JOIN LATERAL jsonb_array_elements(c.waivers) AS used
         JOIN waiver w ON w.id = (used->>'waiver')::uuid
        WHERE c.promotion_id = $1 AND (w.status <> 'granted' OR w.expires_at <= $2)`,
      [promotionId, now],
    );
    return rows.map((r) => ({
      id: r.id,
      check: r.check,
      why: r.status === WaiverStatus.Revoked ? 'revoked' : 'expired',
    }));
  }
}
