import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { inTransaction } from '../database/unit-of-work';
import { EnvironmentEntity } from './environment.entity';

@Injectable()
export class EnvironmentRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One transaction; `within`, a transaction of the caller's (a change being applied), instead. */
  transaction<T>(work: (m: EntityManager) => Promise<T>, within?: EntityManager): Promise<T> {
    return within ? work(within) : inTransaction(this.db, (tx) => work(tx.manager));
  }

  async insert(
    e: Pick<EnvironmentEntity, 'name' | 'description' | 'sources' | 'target' | 'upstreams'>,
    m: EntityManager,
  ): Promise<EnvironmentEntity> {
    const repo = m.getRepository(EnvironmentEntity);
    return repo.save(repo.create({ ...e, activePolicyVersionId: null }));
  }

  findByName(name: string, m: EntityManager = this.db.manager): Promise<EnvironmentEntity | null> {
    return m.getRepository(EnvironmentEntity).findOneBy({ name });
  }

  /** The environment's row, locked until the transaction ends: serialises work on one environment. */
  lockByName(name: string, m: EntityManager): Promise<EnvironmentEntity | null> {
    return m
      .getRepository(EnvironmentEntity)
      .createQueryBuilder('e')
      .setLock('pessimistic_write')
      .where('e.name = :name', { name })
      .getOne();
  }

  findById(id: string): Promise<EnvironmentEntity | null> {
    return this.db.getRepository(EnvironmentEntity).findOneBy({ id });
  }

  async activePolicyVersions(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; version: number }> = await this.db.query(
      `SELECT e.id, pv.version FROM environment e JOIN policy_version pv ON pv.id = e.active_policy_version_id
       WHERE e.id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.version]));
  }

  list(afterName: string | undefined, limit: number): Promise<EnvironmentEntity[]> {
    const q = this.db.getRepository(EnvironmentEntity).createQueryBuilder('e');
    if (afterName) q.where('e.name > :after', { after: afterName });
    return q.orderBy('e.name', 'ASC').limit(limit).getMany();
  }

  /** Environments whose credential profiles still hold a secret file path, with where. */
  async withSecretFiles(): Promise<Array<{ name: string; fields: string[] }>> {
    const rows: Array<{ name: string; field: string }> = await this.db.query(
      `SELECT e.name, 'sources.' || (s.i - 1) || '.credentials' AS field
         FROM environment e, jsonb_array_elements(e.sources) WITH ORDINALITY AS s(rule, i)
        WHERE s.rule->'credentials' ? 'clientSecretFile'
       UNION ALL
       SELECT e.name, 'target.credentials' FROM environment e WHERE e.target->'credentials' ? 'clientSecretFile'
       ORDER BY 1, 2`,
    );
    const byName = new Map<string, string[]>();
    for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r.field]);
    return [...byName].map(([name, fields]) => ({ name, fields }));
  }

  async setUpstreams(environmentId: string, upstreams: string[], m: EntityManager): Promise<void> {
    await m.query('UPDATE environment SET upstreams = $2::text[], updated_at = now() WHERE id = $1', [
      environmentId,
      upstreams,
    ]);
  }

  /** The environments that name `name` as an upstream. */
  async downstreamsOf(name: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.db.query(
      'SELECT name FROM environment WHERE $1 = ANY(upstreams) ORDER BY name',
      [name],
    );
    return rows.map((r) => r.name);
  }

  async setActivePolicy(environmentId: string, policyVersionId: string, m: EntityManager): Promise<void> {
    await m.query('UPDATE environment SET active_policy_version_id = $2, updated_at = now() WHERE id = $1', [
      environmentId,
      policyVersionId,
    ]);
  }
}
