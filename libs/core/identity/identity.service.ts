import { HostGuard } from '../outbound/host-guard';
import { Injectable, Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { type EntityManager } from 'typeorm';
import { AirlockConfig } from '../../config';
import { DomainError, ErrorCode, matchesRepositoryPattern, notFound } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { type Actor, actorKey } from './actor';
import { type RoleGrant } from './caller';
import {
  type CreateRoleBindingDto,
  type CreateTrustedIssuerDto,
  type RoleBindingView,
  type TrustedIssuerView,
} from './identity.dto';
import { FreshRead } from './fresh-read';
import { IdentityRepository } from './identity.repository';
import { type RoleBindingEntity, Role } from './role-binding.entity';
import { type TrustedIssuerEntity } from './trusted-issuer.entity';

const BOOTSTRAP_ACTOR: Actor = { kind: 'system', issuer: 'airlock', subject: 'bootstrap' };

interface Snapshot {
  /** The committed generation read before these rows were: they are at least that new. */
  generation: number;
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
 * Trusted issuers and role bindings. Read on every request, so held in memory; but before each use
 * the committed generation (bumped with every change, in any process) is read again, so a removed
 * binding, issuer or link never authorises a request that arrives after its removal committed,
 * here or in any other process (the NOTIFY that used to drop it could arrive after that request).
 */
@Injectable()
export class IdentityService {
  private readonly logger = new Logger(IdentityService.name);
  private snapshot: Snapshot | undefined;
  private loading: { generation: number; snapshot: Promise<Snapshot> } | undefined;
  private readonly generationRead = new FreshRead(() => this.repo.generation());

  constructor(
    private readonly repo: IdentityRepository,
    private readonly audit: AuditRepository,
    private readonly config: AirlockConfig,
    private readonly hosts: HostGuard,
  ) {}

  /**
   * The generation of issuers, bindings and links committed when this was called. Whoever keeps
   * what it derived from them (TokenVerifier's callers, IdentityLinkService) compares it with the
   * generation they derived it under. One small query per request at most, shared by the requests
   * that arrive while one waits to start (FreshRead).
   */
  currentGeneration(): Promise<number> {
    return this.generationRead.get();
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
      await this.repo.lockBootstrap(m);
      if (await this.repo.holdsAnything(m)) {
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
      this.logger.log({ msg: 'applied bootstrap identities', file: path });
    });
  }

  async trustedIssuer(issuer: string, generation?: number): Promise<TrustedIssuerEntity | undefined> {
    return (await this.current(generation)).issuers.get(issuer);
  }

  /**
   * Every role the bindings grant to a caller with these verified claims, as they stand now (or at
   * `generation` or later, when the caller just read it): none once the issuer is no longer trusted.
   */
  async grantsFor(s: BindingSubject, generation?: number): Promise<RoleGrant[]> {
    const { bindings, issuers } = await this.current(generation);
    if (!issuers.has(s.issuer)) return [];
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
      const pattern = b.artifactRepositoryPattern;
      if (
        !grants.some(
          (g) =>
            g.role === b.role &&
            g.environment === b.environment &&
            (g.artifactRepositoryPattern ?? null) === pattern,
        )
      ) {
        grants.push({
          role: b.role,
          environment: b.environment,
          ...(pattern !== null ? { artifactRepositoryPattern: pattern } : {}),
        });
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
    // Airlock fetches the issuer's discovery document and keys: only from a host the operator allowed.
    await this.hosts.checkUrl('issuer', dto.issuer);
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
      return row;
    }, within);
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
    }, within);
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
    if (dto.artifactRepositoryPattern !== undefined && dto.role !== Role.Requester) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'artifactRepositoryPattern: only a requester binding says which artifacts may be requested',
        { field: 'artifactRepositoryPattern' },
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
      return row;
    }, within);
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
    }, within);
  }

  private bindingFields(b: CreateRoleBindingDto, actor: Actor): Omit<RoleBindingEntity, 'id' | 'createdAt'> {
    return {
      role: b.role,
      environment: b.environment ?? null,
      issuer: b.issuer,
      subject: b.subject ?? null,
      group: b.group ?? null,
      repositoryPattern: b.repositoryPattern ?? null,
      artifactRepositoryPattern: b.artifactRepositoryPattern ?? null,
      createdBy: actor,
    };
  }

  /**
   * Loads issuers and bindings at least as new as `generation` now, so that later calls with that
   * generation need no connection (e.g. inside a transaction that holds one already).
   */
  async prepare(generation: number): Promise<void> {
    await this.current(generation);
  }

  /** Issuers and bindings at least as new as `generation` (read now when not given). */
  private async current(generation?: number): Promise<Snapshot> {
    const at = generation ?? (await this.currentGeneration());
    if (this.snapshot && this.snapshot.generation >= at) return this.snapshot;
    if (this.loading && this.loading.generation >= at) return this.loading.snapshot;
    const snapshot = this.load(at).finally(() => {
      if (this.loading?.snapshot === snapshot) this.loading = undefined;
    });
    this.loading = { generation: at, snapshot };
    return snapshot;
  }

  private async load(generation: number): Promise<Snapshot> {
    // Read after the generation was: the rows hold every change up to it (perhaps a later one too).
    const [issuers, bindings] = await Promise.all([this.repo.issuers(), this.repo.bindings()]);
    const snapshot = { generation, issuers: new Map(issuers.map((i) => [i.issuer, i])), bindings };
    if (!this.snapshot || this.snapshot.generation < generation) this.snapshot = snapshot;
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
      artifactRepositoryPattern: b.artifactRepositoryPattern,
      createdBy: actorKey(b.createdBy),
      createdAt: b.createdAt.toISOString(),
    };
  }
}
