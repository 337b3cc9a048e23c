import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import {
  ChangeKind,
  ChangeStatus,
  DomainError,
  ErrorCode,
  isProposer,
  notFound,
  rejectOutcome,
} from '../../domain';
import { AuditRepository } from '../audit/audit.repository';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { EnvironmentService } from '../environment/environment.service';
import { actorKey } from '../identity/actor';
import { type Caller } from '../identity/caller';
import { IdentityLinkService } from '../identity/identity-link.service';
import { IdentityService } from '../identity/identity.service';
import { changeSummary, type ChangeRequest } from './change-request';
import { type ChangeView, type ListChangesQuery } from './change.dto';
import { type ProposedChangeEntity } from './change.entity';
import { ChangeRepository } from './change.repository';

/** Failures that say nothing about the change itself: it stays proposed, to be approved again. */
const TRANSIENT = new Set<ErrorCode>([
  ErrorCode.DatabaseUnavailable,
  ErrorCode.QueueUnavailable,
  ErrorCode.RegistryUnavailable,
]);

/** The owning service refused to apply a change it accepted when proposed. */
class NoLongerApplies extends Error {
  constructor(override readonly cause: DomainError) {
    super(cause.message);
  }
}

/**
 * Four eyes on trust: who is trusted (issuers, role bindings, identity links) and where promotions
 * go (environments' sources, target and credential profiles) change only when a second person
 * approves a proposal. Proposing runs the owning service's own checks against the current state
 * (and undoes what they wrote), so bad input is refused at once; approving runs that same service
 * code in the transaction that closes the change.
 */
@Injectable()
export class ChangeService {
  constructor(
    private readonly repo: ChangeRepository,
    private readonly audit: AuditRepository,
    private readonly identity: IdentityService,
    private readonly links: IdentityLinkService,
    private readonly environments: EnvironmentService,
  ) {}

  async propose(request: ChangeRequest, caller: Caller): Promise<ChangeView> {
    const req = await this.withSnapshot({
      kind: request.kind,
      payload: plain(request.payload),
    } as ChangeRequest);
    const summary = changeSummary(req);
    const { person } = await this.links.namesOf(caller);
    const row = await this.repo.transaction(async (m) => {
      await this.repo.dryRun(m, () => this.apply(req, caller, m));
      const created = await this.repo.insert(
        {
          kind: req.kind,
          status: ChangeStatus.Proposed,
          summary,
          payload: req.payload as unknown as Record<string, unknown>,
          proposedBy: caller.actor,
          proposedByPerson: person,
          decidedBy: null,
          decidedAt: null,
          comment: null,
          result: null,
        },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'change.proposed',
          subjectType: 'change',
          subjectId: created.id,
          details: { kind: req.kind, summary },
        },
        m,
      );
      return created;
    });
    return this.view(row);
  }

  async get(id: string): Promise<ChangeView> {
    const row = await this.repo.find(id);
    if (!row) throw notFound('change', id);
    return this.view(row);
  }

  async list(q: ListChangesQuery): Promise<Page<ChangeView>> {
    const limit = q.limit ?? 50;
    const cursor = decodeCursor(q.cursor, ['seq'] as const);
    if (cursor && !/^\d{1,18}$/.test(cursor.seq)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'cursor: not a cursor this API issued', {
        field: 'cursor',
      });
    }
    const rows = await this.repo.list(q.status, cursor?.seq, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => this.view(r),
      (r) => ({ seq: r.seq }),
    );
  }

  /**
   * Applies the change as `caller`, a person other than the proposer (linked identities count
   * once). A change the owning service now refuses (the binding is gone, the name was taken) is
   * closed as `failed` and answered with 409: nothing changed, and a new proposal is needed.
   */
  async approve(id: string, caller: Caller): Promise<ChangeView> {
    const names = await this.links.namesOf(caller);
    try {
      const row = await this.repo.transaction(async (m) => {
        const c = await this.open(id, m);
        if (isProposer(names, await this.proposer(c))) {
          throw new DomainError(
            ErrorCode.FourEyesRequired,
            'a change to who is trusted must be approved by a person other than the one who proposed it',
            { change: id, proposedBy: actorKey(c.proposedBy) },
          );
        }
        let result: Record<string, unknown>;
        try {
          result = await this.apply({ kind: c.kind, payload: c.payload } as ChangeRequest, caller, m);
        } catch (e) {
          if (e instanceof DomainError && !TRANSIENT.has(e.code)) throw new NoLongerApplies(e);
          throw e;
        }
        await this.repo.close(
          id,
          { status: ChangeStatus.Applied, decidedBy: caller.actor, comment: null, result },
          m,
        );
        await this.audit.record(
          {
            actor: caller.actor,
            action: 'change.applied',
            subjectType: 'change',
            subjectId: id,
            details: { kind: c.kind, summary: c.summary, proposedBy: actorKey(c.proposedBy) },
          },
          m,
        );
        return (await this.repo.find(id, m)) ?? c;
      });
      return this.view(row);
    } catch (e) {
      if (!(e instanceof NoLongerApplies)) throw e;
      await this.fail(id, e.cause, caller);
      throw new DomainError(ErrorCode.Conflict, `the change can no longer apply: ${e.cause.message}`, {
        change: id,
        reason: e.cause.code,
      });
    }
  }

  /** Another admin rejects; the proposer's own reject withdraws. Either way nothing is applied. */
  async reject(id: string, comment: string, caller: Caller): Promise<ChangeView> {
    const names = await this.links.namesOf(caller);
    const row = await this.repo.transaction(async (m) => {
      const c = await this.open(id, m);
      const status = rejectOutcome(names, await this.proposer(c));
      await this.repo.close(id, { status, decidedBy: caller.actor, comment, result: null }, m);
      await this.audit.record(
        {
          actor: caller.actor,
          action: status === ChangeStatus.Withdrawn ? 'change.withdrawn' : 'change.rejected',
          subjectType: 'change',
          subjectId: id,
          details: { kind: c.kind, summary: c.summary, comment },
        },
        m,
      );
      return (await this.repo.find(id, m)) ?? c;
    });
    return this.view(row);
  }

  /** The one place a change takes effect: the owning service's own method, in `m`. */
  private async apply(
    req: ChangeRequest,
    caller: Caller,
    m: EntityManager,
  ): Promise<Record<string, unknown>> {
    const actor = caller.actor;
    switch (req.kind) {
      case ChangeKind.TrustedIssuerAdd:
        return { ...(await this.identity.addIssuer(req.payload, actor, m)) };
      case ChangeKind.TrustedIssuerRemove:
        await this.identity.removeIssuer(req.payload.id, actor, m);
        return { removed: req.payload.id };
      case ChangeKind.RoleBindingAdd:
        return { ...(await this.identity.addBinding(req.payload, actor, m)) };
      case ChangeKind.RoleBindingRemove:
        await this.identity.removeBinding(req.payload.id, actor, m);
        return { removed: req.payload.id };
      case ChangeKind.IdentityLinkAdd:
        return { ...(await this.links.link(req.payload.identity, req.payload.person, actor, m)) };
      case ChangeKind.IdentityLinkRemove:
        await this.links.unlink(req.payload.identity, actor, m);
        return { removed: req.payload.identity };
      case ChangeKind.EnvironmentCreate:
        return { ...(await this.environments.create(req.payload, caller, m)) };
      case ChangeKind.EnvironmentSetUpstreams:
        return {
          ...(await this.environments.setUpstreams(
            req.payload.environment,
            req.payload.upstreams,
            caller,
            m,
          )),
        };
    }
  }

  /** Removals carry what they remove, so the reviewer sees it (and a missing one is a 404 now). */
  private async withSnapshot(req: ChangeRequest): Promise<ChangeRequest> {
    switch (req.kind) {
      case ChangeKind.TrustedIssuerRemove: {
        const removes = (await this.identity.listIssuers()).find((i) => i.id === req.payload.id);
        if (!removes) throw notFound('trusted issuer', req.payload.id);
        return { kind: req.kind, payload: { id: req.payload.id, removes } };
      }
      case ChangeKind.RoleBindingRemove: {
        const removes = (await this.identity.listBindings()).find((b) => b.id === req.payload.id);
        if (!removes) throw notFound('role binding', req.payload.id);
        return { kind: req.kind, payload: { id: req.payload.id, removes } };
      }
      case ChangeKind.IdentityLinkRemove: {
        const removes = await this.links.find(req.payload.identity);
        if (!removes) throw notFound('identity link', req.payload.identity);
        return { kind: req.kind, payload: { identity: req.payload.identity, removes } };
      }
      case ChangeKind.EnvironmentSetUpstreams: {
        const env = await this.environments.byNameFresh(req.payload.environment);
        return { kind: req.kind, payload: { ...req.payload, previous: env.upstreams } };
      }
      case ChangeKind.TrustedIssuerAdd:
      case ChangeKind.RoleBindingAdd:
      case ChangeKind.IdentityLinkAdd:
      case ChangeKind.EnvironmentCreate:
        return req;
    }
  }

  /** The change locked, if still open. */
  private async open(id: string, m: EntityManager): Promise<ProposedChangeEntity> {
    const c = await this.repo.lock(id, m);
    if (!c) throw notFound('change', id);
    if (c.status !== ChangeStatus.Proposed) {
      throw new DomainError(ErrorCode.Conflict, `this change is already ${c.status}`, {
        change: id,
        status: c.status,
      });
    }
    return c;
  }

  /** The proposer as recorded then and as the links resolve them now (see isProposer). */
  private async proposer(c: ProposedChangeEntity): Promise<string[]> {
    const key = actorKey(c.proposedBy);
    return [c.proposedByPerson, key, await this.links.personOf(key)];
  }

  private async fail(id: string, cause: DomainError, caller: Caller): Promise<void> {
    await this.repo.transaction(async (m) => {
      const c = await this.repo.lock(id, m);
      if (!c || c.status !== ChangeStatus.Proposed) return;
      await this.repo.close(
        id,
        { status: ChangeStatus.Failed, decidedBy: caller.actor, comment: cause.message, result: null },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'change.failed',
          subjectType: 'change',
          subjectId: id,
          details: { kind: c.kind, summary: c.summary, reason: cause.code, message: cause.message },
        },
        m,
      );
    });
  }

  private view(c: ProposedChangeEntity): ChangeView {
    return {
      id: c.id,
      kind: c.kind,
      status: c.status,
      summary: c.summary,
      payload: c.payload,
      proposedBy: actorKey(c.proposedBy),
      createdAt: c.createdAt.toISOString(),
      decidedBy: c.decidedBy ? actorKey(c.decidedBy) : null,
      decidedAt: c.decidedAt ? c.decidedAt.toISOString() : null,
      comment: c.comment,
      result: c.result,
    };
  }
}

/** The validated DTO as plain JSON (what is stored and shown), without class instances. */
function plain<T>(dto: T): T {
  return JSON.parse(JSON.stringify(dto)) as T;
}
