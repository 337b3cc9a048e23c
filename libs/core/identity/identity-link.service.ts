import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode, notFound, type PersonNames } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { PgListener } from '../database/pg-listener';
import { type Actor, actorKey } from './actor';
import { type Caller } from './caller';
import { IdentityLinkEntity } from './identity-link.entity';

const REFRESH_MS = 10_000;

export interface IdentityLinkView {
  identity: string;
  person: string;
  createdBy: string;
  createdAt: string;
}

/** Resolves identities to people (see IdentityLinkEntity); cached, reloaded on change. */
@Injectable()
export class IdentityLinkService implements OnModuleInit {
  private cache: { at: number; links: Map<string, string> } | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditRepository,
    private readonly listener: PgListener,
  ) {}

  onModuleInit(): void {
    this.listener.on('identity_changed', () => {
      this.cache = undefined;
    });
  }

  /** The person behind an identity key or handle; the key itself when nobody linked it. */
  async personOf(identity: string): Promise<string> {
    return (await this.links()).get(identity) ?? identity;
  }

  /**
   * The person behind a caller and every name they go by: the one resolution every four-eyes
   * rule uses (approvals, break-glass sign-off, policy activation, changes). A person's own subject
   * doubles as their handle, which is how CI claims (`actor`) name them unless an admin linked
   * that handle to someone else.
   */
  async namesOf(caller: Pick<Caller, 'key' | 'actor'>): Promise<PersonNames> {
    const person = await this.personOf(caller.key);
    const handle = `handle:${caller.actor.subject}`;
    const aliases = [person, caller.key];
    if ((await this.personOf(handle)) === handle) aliases.push(handle);
    return { person, aliases };
  }

  /** One link, or null. */
  async find(identity: string): Promise<IdentityLinkView | null> {
    const row = await this.db.getRepository(IdentityLinkEntity).findOneBy({ identity });
    return row ? this.view(row) : null;
  }

  async list(): Promise<IdentityLinkView[]> {
    const rows = await this.db
      .getRepository(IdentityLinkEntity)
      .find({ order: { person: 'ASC', identity: 'ASC' } });
    return rows.map((r) => this.view(r));
  }

  /** `within`: a transaction of the caller's (a change being applied); else one of its own. */
  async link(
    identity: string,
    person: string,
    actor: Actor,
    within?: EntityManager,
  ): Promise<IdentityLinkView> {
    const row = await this.transaction(within, async (m) => {
      const repo = m.getRepository(IdentityLinkEntity);
      if (await repo.findOneBy({ identity })) {
        throw new DomainError(
          ErrorCode.Conflict,
          `${identity} is already linked to a person; unlink it first`,
          {
            identity,
          },
        );
      }
      const saved = await repo.save(repo.create({ identity, person, createdBy: actor }));
      await this.audit.record(
        {
          actor,
          action: 'identity.linked',
          subjectType: 'identity',
          subjectId: identity,
          details: { person },
        },
        m,
      );
      await m.query(`SELECT pg_notify('identity_changed', '')`);
      return saved;
    });
    this.cache = undefined;
    return this.view(row);
  }

  async unlink(identity: string, actor: Actor, within?: EntityManager): Promise<void> {
    await this.transaction(within, async (m) => {
      const repo = m.getRepository(IdentityLinkEntity);
      const found = await repo.findOneBy({ identity });
      if (!found) throw notFound('identity link', identity);
      await repo.delete({ identity });
      await this.audit.record(
        {
          actor,
          action: 'identity.unlinked',
          subjectType: 'identity',
          subjectId: identity,
          details: { person: found.person },
        },
        m,
      );
      await m.query(`SELECT pg_notify('identity_changed', '')`);
    });
    this.cache = undefined;
  }

  private transaction<T>(
    within: EntityManager | undefined,
    work: (m: EntityManager) => Promise<T>,
  ): Promise<T> {
    return within ? work(within) : this.db.transaction(work);
  }

  private async links(): Promise<Map<string, string>> {
    if (this.cache && Date.now() - this.cache.at < REFRESH_MS) return this.cache.links;
    const rows = await this.db.getRepository(IdentityLinkEntity).find();
    this.cache = { at: Date.now(), links: new Map(rows.map((r) => [r.identity, r.person])) };
    return this.cache.links;
  }

  private view(r: IdentityLinkEntity): IdentityLinkView {
    return {
      identity: r.identity,
      person: r.person,
      createdBy: actorKey(r.createdBy),
      createdAt: r.createdAt.toISOString(),
    };
  }
}
