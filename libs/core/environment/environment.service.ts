import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type CredentialProfile, DomainError, ErrorCode, notFound } from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { boundedCache, CACHE_BOUNDS } from '../common/caches';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { type Caller } from '../identity/caller';
import { IdentityService } from '../identity/identity.service';
import { HostGuard } from '../outbound/host-guard';
import { SecretStore } from '../secrets/secret-store';
import {
  type CreateEnvironmentDto,
  type CredentialProfileDto,
  type EnvironmentView,
} from './environment.dto';
import { type EnvironmentEntity } from './environment.entity';
import { EnvironmentRepository } from './environment.repository';

const profile = (c: CredentialProfile): CredentialProfile => ({
  issuer: c.issuer,
  clientId: c.clientId,
  clientSecretName: c.clientSecretName,
  services: [...c.services],
});

@Injectable()
export class EnvironmentService implements OnApplicationBootstrap {
  /** Environments read on every promotion request; a short cache keeps that off the database. */
  private readonly cache = boundedCache<string, EnvironmentEntity>(CACHE_BOUNDS.environments);
  private readonly names = boundedCache<string, string>(CACHE_BOUNDS.environmentNames);

  constructor(
    private readonly repo: EnvironmentRepository,
    private readonly audit: AuditRepository,
    private readonly identity: IdentityService,
    private readonly hosts: HostGuard,
    private readonly secrets: SecretStore,
  ) {}

  /**
   * A credential profile stored before secrets were named (it holds a file path) stops the
   * process: it would otherwise fail at the first promotion, or read a file it should not. The
   * migration converted the profiles it could (docs/security.md); the rest need an admin.
   */
  async onApplicationBootstrap(): Promise<void> {
    const stale = await this.repo.withSecretFiles();
    if (stale.length > 0) {
      throw new Error(
        `environment ${stale.map((e) => `${e.name} (${e.fields.join(', ')})`).join('; ')}: a credential profile still ` +
          `names a secret file (clientSecretFile). Secrets are named now: put the secret in AIRLOCK_SECRETS_DIR ` +
          `and replace clientSecretFile with clientSecretName in that environment's row`,
      );
    }
  }

  /**
   * Every check of an environment definition beyond its shape, in one place (creation, and
   * anything that will create it later, call this): each registry, token realm and redirect host
   * and each credential issuer is an allowed host (AIRLOCK_ALLOWED_HOSTS; plain http and private
   * addresses only where the operator allows them), each issuer is a trusted issuer, and each
   * named secret exists. Throws host_not_allowed or secret_not_available naming the field.
   */
  async checkDefinition(dto: CreateEnvironmentDto): Promise<void> {
    for (const [i, s] of dto.sources.entries()) {
      const at = `sources.${i}`;
      const insecure = s.insecure ?? false;
      await this.hosts.checkHost(`${at}.registry`, s.registry, insecure);
      for (const [j, realm] of (s.tokenRealms ?? []).entries()) {
        await this.hosts.checkUrl(`${at}.tokenRealms.${j}`, realm);
      }
      for (const [j, host] of (s.redirectHosts ?? []).entries()) {
        await this.hosts.checkHost(`${at}.redirectHosts.${j}`, host, insecure);
      }
      if (s.credentials) await this.checkProfile(`${at}.credentials`, s.credentials);
    }
    await this.hosts.checkHost('target.registry', dto.target.registry, dto.target.insecure ?? false);
    if (dto.target.credentials) await this.checkProfile('target.credentials', dto.target.credentials);
  }

  private async checkProfile(at: string, c: CredentialProfileDto): Promise<void> {
    await this.hosts.checkUrl(`${at}.issuer`, c.issuer);
    if (!(await this.identity.trustedIssuer(c.issuer))) {
      throw new DomainError(
        ErrorCode.HostNotAllowed,
        `${at}.issuer: ${c.issuer} is not a trusted issuer; trust it first (POST /v1/trusted-issuers)`,
        { field: `${at}.issuer`, issuer: c.issuer },
      );
    }
    try {
      await this.secrets.check(c.clientSecretName);
    } catch (e) {
      if (e instanceof DomainError) {
        throw new DomainError(e.code, `${at}.clientSecretName: ${e.message}`, {
          ...e.details,
          field: `${at}.clientSecretName`,
        });
      }
      throw e;
    }
  }

  /** `within`: a transaction of the caller's (a change being applied); else one of its own. */
  async create(dto: CreateEnvironmentDto, caller: Caller, within?: EntityManager): Promise<EnvironmentView> {
    await this.checkDefinition(dto);
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
            ...(s.ciRepository !== undefined ? { ciRepository: s.ciRepository } : {}),
          })),
          upstreams: [],
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
    const env = await this.repo.transaction(work, within);
    return this.view(env, null);
  }

  async get(name: string): Promise<EnvironmentView> {
    const env = await this.byNameFresh(name);
    const versions = await this.repo.activePolicyVersions([env.id]);
    return this.view(env, versions.get(env.id) ?? null, await this.repo.downstreamsOf(env.name));
  }

  /** As stored now, not cached (what the gate decides from). */
  async byNameFresh(name: string): Promise<EnvironmentEntity> {
    const env = await this.repo.findByName(name);
    if (!env) throw notFound('environment', name);
    return env;
  }

  /**
   * Sets the environments a digest must have been promoted into before it may be requested into
   * `name` (applied by a four-eyes change). Each must exist, none may be `name` itself, and the
   * chain may not loop back (staging → production → staging).
   */
  async setUpstreams(
    name: string,
    upstreams: readonly string[],
    caller: Caller,
    m: EntityManager,
  ): Promise<EnvironmentView> {
    const env = await this.repo.findByName(name, m);
    if (!env) throw notFound('environment', name);
    const wanted = [...new Set(upstreams)];
    for (const [i, u] of wanted.entries()) {
      if (u === name) {
        throw new DomainError(
          ErrorCode.ValidationFailed,
          `upstreams.${i}: an environment cannot be its own upstream`,
          {
            field: `upstreams.${i}`,
          },
        );
      }
      if (!(await this.repo.findByName(u, m))) throw notFound('environment', u);
    }
    const loop = await this.loopThrough(name, wanted, m);
    if (loop) {
      throw new DomainError(ErrorCode.Conflict, `the chain would loop: ${loop.join(' → ')}`, {
        environment: name,
        loop,
      });
    }
    const before = env.upstreams;
    await this.repo.setUpstreams(env.id, wanted, m);
    await this.audit.record(
      {
        actor: caller.actor,
        action: 'environment.upstreams_set',
        subjectType: 'environment',
        subjectId: name,
        details: { upstreams: wanted, previous: before },
      },
      m,
    );
    this.cache.delete(name);
    const after = await this.repo.findByName(name, m);
    return this.view(after ?? env, null);
  }

  /** A path from one of `upstreams` back to `name` through the stored chain, if there is one. */
  private async loopThrough(
    name: string,
    upstreams: readonly string[],
    m: EntityManager,
  ): Promise<string[] | null> {
    const seen = new Set<string>();
    const walk = async (at: string, path: string[]): Promise<string[] | null> => {
      if (at === name) return [...path, at];
      if (seen.has(at)) return null;
      seen.add(at);
      const env = await this.repo.findByName(at, m);
      for (const u of env?.upstreams ?? []) {
        const found = await walk(u, [...path, at]);
        if (found) return found;
      }
      return null;
    };
    for (const u of upstreams) {
      const found = await walk(u, [name]);
      if (found) return found;
    }
    return null;
  }

  /** For the promotion hot path: cached briefly (CACHE_BOUNDS.environments). */
  async byNameCached(name: string): Promise<EnvironmentEntity> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const env = await this.repo.findByName(name);
    if (!env) throw notFound('environment', name);
    this.cache.set(name, env);
    return env;
  }

  /** By id, cached like byNameCached (the worker's view of an environment's sources). */
  async byIdCached(id: string): Promise<EnvironmentEntity> {
    return this.byNameCached(await this.byIdName(id));
  }

  /** Environment names never change, so the mapping stays cached (bounded in number: CACHE_BOUNDS). */
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

  private view(
    e: EnvironmentEntity,
    activePolicyVersion: number | null,
    downstreams?: string[],
  ): EnvironmentView {
    return {
      id: e.id,
      name: e.name,
      description: e.description,
      sources: e.sources,
      target: e.target,
      upstreams: e.upstreams ?? [],
      ...(downstreams ? { downstreams } : {}),
      activePolicyVersion,
      createdAt: e.createdAt.toISOString(),
    };
  }
}
