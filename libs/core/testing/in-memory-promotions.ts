import {
  canTransition,
  DomainError,
  ErrorCode,
  notFound,
  PromotionKind,
  PromotionStatus,
} from '../../domain';
import { jobStartedBy, type JobName } from '../../jobs/job.types';
import { type Tx } from '../database/unit-of-work';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { type AttestationFacts, type PromotionRepository } from '../promotion/promotion.repository';
import { type PromotionStateMachine, type Transition } from '../promotion/promotion-state-machine';

/**
 * In-memory stand-ins for PromotionRepository and PromotionStateMachine, for unit tests of the
 * services that decide on promotions. The state machine keeps the real rules (the lifecycle
 * table, conflicts on a status that moved, the job a transition starts, wake-ups after commit);
 * only the SQL is left out. Cast to the real types with `as unknown as`.
 */
export class InMemoryPromotions {
  readonly rows = new Map<string, PromotionEntity>();
  readonly history: Array<Transition & { job: JobName | null }> = [];
  /** Outbox wake-ups, in the order they were sent. */
  readonly wakes: string[] = [];
  facts: AttestationFacts = { policyVersion: 1, checks: [], waivers: [], approvals: [] };

  add(over: Partial<PromotionEntity> = {}): PromotionEntity {
    const p: PromotionEntity = {
      id: `p-${this.rows.size + 1}`,
      seq: String(this.rows.size + 1),
      environmentId: 'env-1',
      policyVersionId: 'pv-1',
      policySha256: 'a'.repeat(64),
      sourceRegistry: 'registry.staging.example.com',
      sourceRepository: 'acme/app',
      digest: `sha256:${'b'.repeat(64)}`,
      tag: null,
      targetRegistry: 'registry.prod.example.com',
      targetRepository: 'prod/acme/app',
      status: PromotionStatus.Received,
      requester: { kind: 'ci', issuer: 'https://ci.example.com', subject: 'repo:acme/app' },
      requesterKey: 'repo:acme/app@https://ci.example.com',
      claims: {},
      metadata: {},
      tokenIssuer: null,
      tokenJti: null,
      idempotencyKey: null,
      requestHash: 'f'.repeat(64),
      attestation: null,
      reasons: [],
      breakGlass: false,
      kind: PromotionKind.Promotion,
      rollbackFromPromotionId: null,
      rollbackToPromotionId: null,
      waitingFor: null,
      waitingUntil: null,
      gate: null,
      createdAt: new Date('2026-01-01T00:00:00Z'),
      updatedAt: new Date('2026-01-01T00:00:00Z'),
      ...over,
    };
    this.rows.set(p.id, p);
    return p;
  }

  status(id: string): PromotionStatus | undefined {
    return this.rows.get(id)?.status;
  }

  /** The statuses a promotion moved through, in order. */
  path(id: string): PromotionStatus[] {
    return this.history.filter((h) => h.promotionId === id).map((h) => h.to);
  }

  readonly repository = {
    findById: async (id: string): Promise<PromotionEntity | null> => {
      const p = this.rows.get(id);
      return p ? { ...p } : null;
    },
    failedFrom: async (id: string): Promise<PromotionStatus | null> =>
      [...this.history].reverse().find((h) => h.promotionId === id && h.to === PromotionStatus.Failed)
        ?.from ?? null,
    /** The detail read with no children: enough for services that answer with the API's view. */
    detail: async (id: string) => {
      const p = this.rows.get(id);
      return p
        ? {
            promotion: { ...p },
            environmentName: 'production',
            policyVersion: 1,
            checks: [],
            approvals: [],
            history: [],
          }
        : null;
    },
    attestationFacts: async (id: string): Promise<AttestationFacts | null> =>
      this.rows.has(id) ? this.facts : null,
    recentTargetRepositories: async (registry: string, except: string, limit: number): Promise<string[]> => {
      const recent = [...this.rows.values()]
        .filter(
          (p) =>
            p.status === PromotionStatus.Promoted &&
            p.targetRegistry === registry &&
            p.targetRepository !== except,
        )
        .sort((a, b) => Number(b.seq) - Number(a.seq))
        .map((p) => p.targetRepository);
      return [...new Set(recent)].slice(0, limit);
    },
    setAttestation: async (id: string, attestation: PromotionEntity['attestation']): Promise<void> => {
      const p = this.rows.get(id);
      if (p) p.attestation = attestation;
    },
  };

  readonly stateMachine = {
    transition: async (t: Transition, tx?: Tx): Promise<PromotionEntity> => {
      if (!canTransition(t.from, t.to)) {
        throw new DomainError(ErrorCode.InvalidTransition, `a promotion cannot go from ${t.from} to ${t.to}`);
      }
      const p = this.rows.get(t.promotionId);
      if (!p) throw notFound('promotion', t.promotionId);
      if (p.status !== t.from) {
        throw new DomainError(ErrorCode.Conflict, `the promotion is ${p.status}, no longer ${t.from}`);
      }
      return this.apply(p, t, tx);
    },
    transitionIfIn: async (t: Transition, tx?: Tx): Promise<PromotionEntity | null> => {
      if (!canTransition(t.from, t.to)) {
        throw new DomainError(ErrorCode.InvalidTransition, `a promotion cannot go from ${t.from} to ${t.to}`);
      }
      const p = this.rows.get(t.promotionId);
      return p && p.status === t.from ? this.apply(p, t, tx) : null;
    },
  };

  private apply(p: PromotionEntity, t: Transition, tx?: Tx): PromotionEntity {
    p.status = t.to;
    if (t.reasons) p.reasons = t.reasons;
    if (t.breakGlass) p.breakGlass = true;
    p.waitingFor = t.waiting?.for ?? null;
    p.waitingUntil = t.waiting?.until ?? null;
    if (t.gate) p.gate = t.gate;
    const job = jobStartedBy(t.from, t.to);
    this.history.push({ ...t, job });
    if (job) {
      const wake = (): void => void this.wakes.push('outbox');
      if (tx) tx.afterCommit(wake);
      else wake();
    }
    return { ...p };
  }

  get asRepository(): PromotionRepository {
    return this.repository as unknown as PromotionRepository;
  }

  get asStateMachine(): PromotionStateMachine {
    return this.stateMachine as unknown as PromotionStateMachine;
  }
}

/** A transaction that commits when `commit` is called, running its after-commit hooks then. */
export function fakeTx(): Tx & { commit(): void } {
  const hooks: Array<() => void> = [];
  return {
    manager: {} as Tx['manager'],
    afterCommit: (fn) => hooks.push(fn),
    commit: () => hooks.splice(0).forEach((h) => h()),
  };
}
