import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { type CredentialProfile, DomainError, ErrorCode, notFound } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { type Caller } from '../identity/caller';
import { type CreateEnvironmentDto, type EnvironmentView } from './environment.dto';
import { type EnvironmentEntity } from './environment.entity';
import { EnvironmentRepository } from './environment.repository';

const CACHE_MS = 5000;

const profile = (c: CredentialProfile): CredentialProfile => ({
  issuer: c.issuer,
  clientId: c.clientId,
  clientSecretFile: c.clientSecretFile,
  services: [...c.services],
});

@Injectable()
export class EnvironmentService {
  /** Environments read on every promotion request; a short cache keeps that off the database. */
  private readonly cache = new Map<string, { at: number; env: EnvironmentEntity }>();
  private readonly names = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: EnvironmentRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** `within`: a transaction of the caller's (a change being applied); else one of its own. */
  async create(dto: CreateEnvironmentDto, caller: Caller, within?: EntityManager): Promise<EnvironmentView> {
    const work = async (m: EntityManager): Promise<EnvironmentEntity> => {
      if (await this.repo.findByName(dto.name, m)) {
        throw new DomainError(ErrorCode.Conflict, `environment ${dto.name} already exists`, {
          name: dto.name,
        });
      }
      const created = await this.repo.insert(
        {
          name: dto.name,
          description: dto.description ?? '',
          sources: dto.sources.map((s) => ({
            registry: s.registry,
            repositories: [...s.repositories],
            ...(s.insecure !== undefined ? { insecure: s.insecure } : {}),
            ...(s.tokenRealms ? { tokenRealms: [...s.tokenRealms] } : {}),
            ...(s.redirectHosts ? { redirectHosts: [...s.redirectHosts] } : {}),
            ...(s.credentials ? { credentials: profile(s.credentials) } : {}),
          })),
          target: {
            registry: dto.target.registry,
            repository: dto.target.repository,
            ...(dto.target.insecure !== undefined ? { insecure: dto.target.insecure } : {}),
            ...(dto.target.credentials ? { credentials: profile(dto.target.credentials) } : {}),
          },
        },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'environment.created',
          subjectType: 'environment',
          subjectId: created.name,
          details: { sources: created.sources, target: created.target },
        },
        m,
      );
      return created;
    };
    const env = within ? await work(within) : await this.db.transaction(work);
    return this.view(env, null);
  }

  async get(name: string): Promise<EnvironmentView> {
    const env = await this.repo.findByName(name);
    if (!env) throw notFound('environment', name);
    const versions = await this.repo.activePolicyVersions([env.id]);
    return this.view(env, versions.get(env.id) ?? null);
  }

  /** For the promotion hot path: cached briefly, never for longer than CACHE_MS. */
  async byNameCached(name: string): Promise<EnvironmentEntity> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.env;
    const env = await this.repo.findByName(name);
    if (!env) throw notFound('environment', name);
    this.cache.set(name, { at: Date.now(), env });
    return env;
  }

  /** By id, cached like byNameCached (the worker's view of an environment's sources). */
  async byIdCached(id: string): Promise<EnvironmentEntity> {
    return this.byNameCached(await this.byIdName(id));
  }

  /** Environment names never change, so the mapping is cached for good. */
  async byIdName(id: string): Promise<string> {
    const known = this.names.get(id);
    if (known) return known;
    const env = await this.repo.findById(id);
    if (!env) throw notFound('environment', id);
    this.names.set(id, env.name);
    return env.name;
  }

  async list(cursor: string | undefined, limit: number): Promise<Page<EnvironmentView>> {
    const after = decodeCursor(cursor, ['name'] as const);
    const rows = await this.repo.list(after?.name, limit + 1);
    const versions = await this.repo.activePolicyVersions(rows.map((r) => r.id));
    return toPage(
      rows,
      limit,
      (r) => this.view(r, versions.get(r.id) ?? null),
      (r) => ({ name: r.name }),
    );
  }

  private view(e: EnvironmentEntity, activePolicyVersion: number | null): EnvironmentView {
    return {
      id: e.id,
      name: e.name,
      description: e.description,
      sources: e.sources,
      target: e.target,
      activePolicyVersion,
      createdAt: e.createdAt.toISOString(),
    };
  }
}
