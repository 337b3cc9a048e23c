import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { type PreparedStatement, queryPrepared } from '../database/prepared';
import { IdentityLinkEntity } from './identity-link.entity';
import { RoleBindingEntity } from './role-binding.entity';
import { TrustedIssuerEntity } from './trusted-issuer.entity';

/** Read before every authenticated request (see generation()): prepared once per connection. */
const GENERATION_STATEMENT: PreparedStatement = {
  name: 'airlock_identity_generation',
  text: 'SELECT value FROM identity_generation WHERE id = 1',
};

@Injectable()
export class IdentityRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  get manager(): EntityManager {
    return this.db.manager;
  }

  /** `within`: run in the caller's transaction (a change being applied) instead of a new one. */
  transaction<T>(work: (m: EntityManager) => Promise<T>, within?: EntityManager): Promise<T> {
    return within ? work(within) : this.db.transaction(work);
  }

  /** Serialises bootstrapping (held until the transaction ends): two processes starting at once apply it once. */
  async lockBootstrap(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock(7474)');
  }

  /** Whether any trusted issuer, role binding, identity link or environment exists. */
  async holdsAnything(m: EntityManager): Promise<boolean> {
    const rows: Array<{ n: boolean }> = await m.query(
      `SELECT EXISTS (SELECT 1 FROM trusted_issuer) OR EXISTS (SELECT 1 FROM role_binding)
           OR EXISTS (SELECT 1 FROM identity_link) OR EXISTS (SELECT 1 FROM environment) AS n`,
    );
    return rows[0].n;
  }

  issuers(): Promise<TrustedIssuerEntity[]> {
    return this.db.getRepository(TrustedIssuerEntity).find({ order: { issuer: 'ASC' } });
  }

  bindings(): Promise<RoleBindingEntity[]> {
    return this.db.getRepository(RoleBindingEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async insertIssuer(
    e: Omit<TrustedIssuerEntity, 'id' | 'createdAt'>,
    m: EntityManager,
  ): Promise<TrustedIssuerEntity> {
    const repo = m.getRepository(TrustedIssuerEntity);
    return repo.save(repo.create(e));
  }

  async insertBinding(
    e: Omit<RoleBindingEntity, 'id' | 'createdAt'>,
    m: EntityManager,
  ): Promise<RoleBindingEntity> {
    const repo = m.getRepository(RoleBindingEntity);
    return repo.save(repo.create(e));
  }

  async deleteIssuer(id: string, m: EntityManager): Promise<TrustedIssuerEntity | null> {
    const found = await m.getRepository(TrustedIssuerEntity).findOneBy({ id });
    if (found) await m.getRepository(TrustedIssuerEntity).delete({ id });
    return found;
  }

  async deleteBinding(id: string, m: EntityManager): Promise<RoleBindingEntity | null> {
    const found = await m.getRepository(RoleBindingEntity).findOneBy({ id });
    if (found) await m.getRepository(RoleBindingEntity).delete({ id });
    return found;
  }

  link(identity: string, m: EntityManager = this.db.manager): Promise<IdentityLinkEntity | null> {
    return m.getRepository(IdentityLinkEntity).findOneBy({ identity });
  }

  links(): Promise<IdentityLinkEntity[]> {
    return this.db.getRepository(IdentityLinkEntity).find({ order: { person: 'ASC', identity: 'ASC' } });
  }

  async insertLink(e: Omit<IdentityLinkEntity, 'createdAt'>, m: EntityManager): Promise<IdentityLinkEntity> {
    const repo = m.getRepository(IdentityLinkEntity);
    return repo.save(repo.create(e));
  }

  /** Deletes the link; returns what it was, or null when there was none. */
  async deleteLink(identity: string, m: EntityManager): Promise<IdentityLinkEntity | null> {
    const found = await m.getRepository(IdentityLinkEntity).findOneBy({ identity });
    if (found) await m.getRepository(IdentityLinkEntity).delete({ identity });
    return found;
  }

  /**
   * The committed generation of trusted issuers, role bindings and identity links: triggers on
   * those tables bump it in the transaction of every change, whoever makes it (migration
   * 1795420000000), so it moves exactly when what it guards does.
   */
  async generation(): Promise<number> {
    const rows: Array<{ value: string }> = await queryPrepared(this.db, GENERATION_STATEMENT, []);
    return Number(rows[0]?.value ?? 0);
  }
}
