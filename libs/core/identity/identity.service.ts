import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { type EntityManager } from 'typeorm';
import { AirlockConfig } from '../../config';
import { DomainError, ErrorCode, matchesRepositoryPattern, notFound } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { PgListener } from '../database/pg-listener';
import { type Actor, actorKey } from './actor';
import { type RoleGrant } from './caller';
import {
  type CreateRoleBindingDto,
  type CreateTrustedIssuerDto,
  type RoleBindingView,
  type TrustedIssuerView,
} from './identity.dto';
import { IdentityRepository } from './identity.repository';
import { type RoleBindingEntity } from './role-binding.entity';
import { type TrustedIssuerEntity } from './trusted-issuer.entity';

const REFRESH_MS = 10_000;
const BOOTSTRAP_ACTOR: Actor = { kind: 'system', issuer: 'airlock', subject: 'bootstrap' };

interface Snapshot {
  at: number;
  issuers: Map<string, TrustedIssuerEntity>;
  bindings: RoleBindingEntity[];
}

/** The claims a role binding can match. */
export interface BindingSubject {
  issuer: string;
  subject: string;
  groups: readonly string[];
  repository?: string;
}

/**
 * Trusted issuers and role bindings. Read on every request, so held in memory and reloaded when
 * any process changes them (NOTIFY) and at least every REFRESH_MS.
 */
@Injectable()
export class IdentityService implements OnModuleInit {
  private readonly logger = new Logger(IdentityService.name);
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  private changes = 0;

  constructor(
    private readonly repo: IdentityRepository,
    private readonly audit: AuditRepository,
    private readonly listener: PgListener,
    private readonly config: AirlockConfig,
  ) {}

  onModuleInit(): void {
    this.listener.on('identity_changed', () => this.invalidate());
  }

  /**
   * Changes whenever issuers or bindings may have changed, here or (NOTIFY) in another process:
   * whoever keeps what it derived from them (TokenVerifier's callers) must drop it then.
   */
  get generation(): number {
    return this.changes;
  }

  private invalidate(): void {
    this.changes += 1;
    this.snapshot = undefined;
    this.loading = undefined;
  }

  /**
   * Applies the bootstrap file to an empty database only (no trusted issuer, role binding,
   * identity link or environment): the first admin's way in. Once anything exists, who is trusted
   * changes only through proposals a second person approves, so the file is ignored (and says so).
   */
  async bootstrap(): Promise<void> {
    const path = this.config.AIRLOCK_BOOTSTRAP_FILE;
    if (!path) return;
    const doc = JSON.parse(await readFile(path, 'utf8')) as {
      trustedIssuers?: CreateTrustedIssuerDto[];
      roleBindings?: CreateRoleBindingDto[];
    };
    await this.repo.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(7474)');
      const existing: Array<{ n: boolean }> = await m.query(
        `SELECT EXISTS (SELECT 1 FROM trusted_issuer) OR EXISTS (SELECT 1 FROM role_binding)
             OR EXISTS (SELECT 1 FROM identity_link) OR EXISTS (SELECT 1 FROM environment) AS n`,
      );
      if (existing[0].n) {
        this.logger.log({
          msg: 'bootstrap file ignored: the database already holds identities or environments',
          file: path,
        });
        return;
      }
      for (const i of doc.trustedIssuers ?? []) {
        await this.repo.insertIssuer(
          {
            issuer: i.issuer,
            kind: i.kind,
            audience: i.audience,
            groupsClaim: i.groupsClaim ?? 'groups',
            createdBy: BOOTSTRAP_ACTOR,
          },
          m,
        );
      }
      for (const b of doc.roleBindings ?? []) {
        await this.repo.insertBinding(this.bindingFields(b, BOOTSTRAP_ACTOR), m);
      }
      await this.audit.record(
        {
          actor: BOOTSTRAP_ACTOR,
          action: 'identity.bootstrapped',
          subjectType: 'identity',
          subjectId: 'bootstrap',
          details: {
            trustedIssuers: (doc.trustedIssuers ?? []).length,
            roleBindings: (doc.roleBindings ?? []).length,
          },
        },
        m,
      );
      await this.repo.notifyChanged(m);
      this.logger.log({ msg: 'applied bootstrap identities', file: path });
    });
    this.invalidate();
  }

  async trustedIssuer(issuer: string): Promise<TrustedIssuerEntity | undefined> {
    return (await this.current()).issuers.get(issuer);
  }

  /** Every role the bindings grant to a caller with these verified claims. */
  async grantsFor(s: BindingSubject): Promise<RoleGrant[]> {
    const { bindings } = await this.current();
    const grants: RoleGrant[] = [];
    for (const b of bindings) {
      if (b.issuer !== s.issuer) continue;
      if (b.subject !== null && b.subject !== s.subject) continue;
      if (b.group !== null && !s.groups.includes(b.group)) continue;
      if (
        b.repositoryPattern !== null &&
        !(s.repository && matchesRepositoryPattern(b.repositoryPattern, s.repository))
      )
        continue;
      if (!grants.some((g) => g.role === b.role && g.environment === b.environment)) {
        grants.push({ role: b.role, environment: b.environment });
      }
    }
    return grants;
  }

  async listIssuers(): Promise<TrustedIssuerView[]> {
    return (await this.repo.issuers()).map((i) => this.issuerView(i));
  }

  async addIssuer(
    dto: CreateTrustedIssuerDto,
    actor: Actor,
    within?: EntityManager,
  ): Promise<TrustedIssuerView> {
    if (!this.config.AUTH_ALLOW_INSECURE_ISSUERS && !dto.issuer.startsWith('https://')) {
      throw new DomainError(ErrorCode.ValidationFailed, 'issuer: must be an https URL', { field: 'issuer' });
    }
    const created = await this.repo.transaction(async (m) => {
      const all = await this.repo.issuers();
      if (all.some((i) => i.issuer === dto.issuer)) {
        throw new DomainError(ErrorCode.Conflict, `issuer ${dto.issuer} is already trusted`, {
          issuer: dto.issuer,
        });
      }
      const row = await this.repo.insertIssuer(
        {
          issuer: dto.issuer,
          kind: dto.kind,
          audience: dto.audience,
          groupsClaim: dto.groupsClaim ?? 'groups',
          createdBy: actor,
        },
        m,
      );
      await this.audit.record(
        {
          actor,
          action: 'identity.issuer_trusted',
          subjectType: 'trusted_issuer',
          subjectId: row.issuer,
          details: { kind: row.kind, audience: row.audience },
        },
        m,
      );
      await this.repo.notifyChanged(m);
      return row;
    }, within);
    this.invalidate();
    return this.issuerView(created);
  }

  async removeIssuer(id: string, actor: Actor, within?: EntityManager): Promise<void> {
    await this.repo.transaction(async (m) => {
      const removed = await this.repo.deleteIssuer(id, m);
      if (!removed) throw notFound('trusted issuer', id);
      await this.audit.record(
        {
          actor,
          action: 'identity.issuer_removed',
          subjectType: 'trusted_issuer',
          subjectId: removed.issuer,
        },
        m,
      );
      await this.repo.notifyChanged(m);
    }, within);
    this.invalidate();
  }

  async listBindings(): Promise<RoleBindingView[]> {
    return (await this.repo.bindings()).map((b) => this.bindingView(b));
  }

  async addBinding(
    dto: CreateRoleBindingDto,
    actor: Actor,
    within?: EntityManager,
  ): Promise<RoleBindingView> {
    if (!dto.subject && !dto.group && !dto.repositoryPattern) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'a role binding must name a subject, a group or a repositoryPattern: an issuer alone would grant the role to everyone it serves',
        { field: 'subject' },
      );
    }
    const created = await this.repo.transaction(async (m) => {
      const row = await this.repo.insertBinding(this.bindingFields(dto, actor), m);
      await this.audit.record(
        {
          actor,
          action: 'identity.role_bound',
          subjectType: 'role_binding',
          subjectId: row.id,
          details: { ...this.bindingView(row) },
        },
        m,
      );
      await this.repo.notifyChanged(m);
      return row;
    }, within);
    this.invalidate();
    return this.bindingView(created);
  }

  async removeBinding(id: string, actor: Actor, within?: EntityManager): Promise<void> {
    await this.repo.transaction(async (m) => {
      const removed = await this.repo.deleteBinding(id, m);
      if (!removed) throw notFound('role binding', id);
      await this.audit.record(
        {
          actor,
          action: 'identity.role_unbound',
          subjectType: 'role_binding',
          subjectId: id,
          details: { ...this.bindingView(removed) },
        },
        m,
      );
      await this.repo.notifyChanged(m);
    }, within);
    this.invalidate();
  }

  private bindingFields(b: CreateRoleBindingDto, actor: Actor): Omit<RoleBindingEntity, 'id' | 'createdAt'> {
    return {
      role: b.role,
      environment: b.environment ?? null,
      issuer: b.issuer,
      subject: b.subject ?? null,
      group: b.group ?? null,
      repositoryPattern: b.repositoryPattern ?? null,
      createdBy: actor,
    };
  }

  private async current(): Promise<Snapshot> {
    if (this.snapshot && Date.now() - this.snapshot.at < REFRESH_MS) return this.snapshot;
    if (this.loading) return this.loading;
    const loading = this.load(this.changes).finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    this.loading = loading;
    return loading;
  }

  private async load(generation: number): Promise<Snapshot> {
    const [issuers, bindings] = await Promise.all([this.repo.issuers(), this.repo.bindings()]);
    const snapshot = { at: Date.now(), issuers: new Map(issuers.map((i) => [i.issuer, i])), bindings };
    // A change that arrived while this was read may be missing from it: not kept for later callers.
    if (generation === this.changes) this.snapshot = snapshot;
    return snapshot;
  }

  private issuerView(i: TrustedIssuerEntity): TrustedIssuerView {
    return {
      id: i.id,
      issuer: i.issuer,
      kind: i.kind,
      audience: i.audience,
      groupsClaim: i.groupsClaim,
      createdBy: actorKey(i.createdBy),
      createdAt: i.createdAt.toISOString(),
    };
  }

  private bindingView(b: RoleBindingEntity): RoleBindingView {
    return {
      id: b.id,
      role: b.role,
      environment: b.environment,
      issuer: b.issuer,
      subject: b.subject,
      group: b.group,
      repositoryPattern: b.repositoryPattern,
      createdBy: actorKey(b.createdBy),
      createdAt: b.createdAt.toISOString(),
    };
  }
}
