import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { ChangeStatus } from '../../domain';
import { ProposedChangeEntity } from './change.entity';

/** Thrown inside a dry run to roll it back; never leaves the repository. */
class DryRunDone<T> extends Error {
  constructor(readonly value: T) {
    super('dry run');
  }
}

@Injectable()
export class ChangeRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Runs `work` inside `m` and undoes everything it wrote (a savepoint rolled back), keeping the
   * transaction usable: how a proposal runs the owning service's own checks without applying.
   */
  async dryRun<T>(m: EntityManager, work: () => Promise<T>): Promise<T> {
    await m.query('SAVEPOINT change_dry_run');
    try {
      throw new DryRunDone(await work());
    } catch (e) {
      await m.query('ROLLBACK TO SAVEPOINT change_dry_run');
      if (e instanceof DryRunDone) return e.value as T;
      throw e;
    }
  }

  async insert(
    e: Omit<ProposedChangeEntity, 'id' | 'seq' | 'createdAt'>,
    m: EntityManager,
  ): Promise<ProposedChangeEntity> {
    const repo = m.getRepository(ProposedChangeEntity);
    return repo.save(repo.create(e));
  }

  find(id: string, m: EntityManager = this.db.manager): Promise<ProposedChangeEntity | null> {
    return m.getRepository(ProposedChangeEntity).findOneBy({ id });
  }

  /** The row locked for this transaction: decisions on one change are made one at a time. */
  lock(id: string, m: EntityManager): Promise<ProposedChangeEntity | null> {
    return m
      .getRepository(ProposedChangeEntity)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.id = :id', { id })
      .getOne();
  }

  /** Closes an open change; false when it was no longer `proposed`. */
  async close(
    id: string,
    fields: Pick<ProposedChangeEntity, 'status' | 'decidedBy' | 'comment' | 'result'>,
    m: EntityManager,
  ): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, rowCount].
    const [, count]: [unknown, number] = await m.query(
      `UPDATE proposed_change SET status = $2, decided_by = $3, decided_at = now(), comment = $4, result = $5
        WHERE id = $1 AND status = $6`,
      [
        id,
        fields.status,
        fields.decidedBy === null ? null : JSON.stringify(fields.decidedBy),
        fields.comment,
        fields.result === null ? null : JSON.stringify(fields.result),
        ChangeStatus.Proposed,
      ],
    );
    return count === 1;
  }

  /** Newest first; `beforeSeq` continues a page. */
  list(
    status: ChangeStatus | undefined,
    beforeSeq: string | undefined,
    limit: number,
  ): Promise<ProposedChangeEntity[]> {
    const q = this.db.getRepository(ProposedChangeEntity).createQueryBuilder('c');
    if (status) q.andWhere('c.status = :status', { status });
    if (beforeSeq) q.andWhere('c.seq < :seq', { seq: beforeSeq });
    return q.orderBy('c.seq', 'DESC').limit(limit).getMany();
  }
}
