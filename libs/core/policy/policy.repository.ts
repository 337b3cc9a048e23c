import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { inTransaction, type Tx } from '../database/unit-of-work';
import { PolicyVersionEntity } from './policy-version.entity';

@Injectable()
export class PolicyRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One transaction (version numbering and activation hold the environment's row lock in it). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, work);
  }

  /** Inserts the next version number for the environment (callers hold the environment's row lock). */
  async insertNext(
    v: Pick<PolicyVersionEntity, 'environmentId' | 'document' | 'sha256' | 'comment' | 'createdBy'>,
    m: EntityManager,
  ): Promise<PolicyVersionEntity> {
    const rows: Array<{ next: number }> = await m.query(
      'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM policy_version WHERE environment_id = $1',
      [v.environmentId],
    );
    const repo = m.getRepository(PolicyVersionEntity);
    return repo.save(repo.create({ ...v, version: rows[0].next, activatedAt: null, activatedBy: null }));
  }

  find(
    environmentId: string,
    version: number,
    m: EntityManager = this.db.manager,
  ): Promise<PolicyVersionEntity | null> {
    return m.getRepository(PolicyVersionEntity).findOneBy({ environmentId, version });
  }

  findById(id: string, m: EntityManager = this.db.manager): Promise<PolicyVersionEntity | null> {
    return m.getRepository(PolicyVersionEntity).findOneBy({ id });
  }

  list(
    environmentId: string,
    beforeVersion: number | undefined,
    limit: number,
  ): Promise<PolicyVersionEntity[]> {
    const q = this.db
      .getRepository(PolicyVersionEntity)
      .createQueryBuilder('v')
      .where('v.environment_id = :environmentId', { environmentId });
    if (beforeVersion !== undefined) q.andWhere('v.version < :before', { before: beforeVersion });
    return q.orderBy('v.version', 'DESC').limit(limit).getMany();
  }

  async markActivated(
    id: string,
    activatedBy: PolicyVersionEntity['activatedBy'],
    m: EntityManager,
  ): Promise<void> {
    await m.query(
      'UPDATE policy_version SET activated_by = $2::jsonb, activated_at = now() WHERE id = $1 AND activated_at IS NULL',
      [id, JSON.stringify(activatedBy)],
    );
  }
}
