import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { DomainError, ErrorCode, notFound, type PersonNames } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { type Actor, actorKey } from './actor';
import { type Caller } from './caller';
import { type IdentityLinkEntity } from './identity-link.entity';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';

export interface IdentityLinkView {
  identity: string;
  person: string;
  createdBy: string;
  createdAt: string;
}

/**
 * Resolves identities to people (see IdentityLinkEntity); cached, and reloaded whenever the
 * committed identity generation moved (a link removed in any process counts at once).
 */
@Injectable()
export class IdentityLinkService {
  private cache: { generation: number; links: Map<string, string> } | undefined;

  constructor(
    private readonly repo: IdentityRepository,
    private readonly audit: AuditRepository,
    private readonly identity: IdentityService,
  ) {}

  /**
   * The person behind an identity key or handle; the key itself when nobody linked it. With
   * `generation` (IdentityService.currentGeneration), links at least that new, read only if the
   * cache is older.
   */
  async personOf(identity: string, generation?: number): Promise<string> {
    return (await this.links(generation)).get(identity) ?? identity;
  }

  /**
   * The person behind a caller and every name they go by: the one resolution every four-eyes
   * rule uses (approvals, break-glass sign-off, policy activation, changes). A person's own subject
   * doubles as their handle, which is how CI claims (`actor`) name them unless an admin linked
   * that handle to someone else.
   */
  async namesOf(caller: Pick<Caller, 'key' | 'actor'>, generation?: number): Promise<PersonNames> {
    const person = await this.personOf(caller.key, generation);
    const handle = `handle:${caller.actor.subject}`;
    const aliases = [person, caller.key];
    if ((await this.personOf(handle, generation)) === handle) aliases.push(handle);
    return { person, aliases };
  }

  /** One link, or null. */
  async find(identity: string): Promise<IdentityLinkView | null> {
    const row = await this.repo.link(identity);
    return row ? this.view(row) : null;
  }

  async list(): Promise<IdentityLinkView[]> {
    const rows = await this.repo.links();
    return rows.map((r) => this.view(r));
  }

  /** `within`: a transaction of the caller's (a change being applied); else one of its own. */
  async link(
    identity: string,
    person: string,
    actor: Actor,
    within?: EntityManager,
  ): Promise<IdentityLinkView> {
    const row = await this.repo.transaction(async (m) => {
      if (await this.repo.link(identity, m)) {
        throw new DomainError(
          ErrorCode.Conflict,
          `${identity} is already linked to a person; unlink it first`,
          {
            identity,
          },
        );
      }
      const saved = await this.repo.insertLink({ identity, person, createdBy: actor }, m);
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
      return saved;
    }, within);
    return this.view(row);
  }

  async unlink(identity: string, actor: Actor, within?: EntityManager): Promise<void> {
    await this.repo.transaction(async (m) => {
      const found = await this.repo.deleteLink(identity, m);
      if (!found) throw notFound('identity link', identity);
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
    }, within);
  }

  private async links(at?: number): Promise<Map<string, string>> {
    const generation = at ?? (await this.identity.currentGeneration());
    if (this.cache && this.cache.generation >= generation) return this.cache.links;
    // Read after the generation: these rows hold every change up to it.
    const rows = await this.repo.links();
    const links = new Map(rows.map((r) => [r.identity, r.person]));
    if (!this.cache || this.cache.generation < generation) this.cache = { generation, links };
    return links;
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
