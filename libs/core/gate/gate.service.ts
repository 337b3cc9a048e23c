import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  evaluateGate,
  type FreezeWindow,
  type GateDecision,
  nextOccurrences,
  type PolicyDocument,
  freezeAt,
  upstreamStanding,
} from '../../domain';
import { Clock } from '../common/clock';
import { type EnvironmentEntity } from '../environment/environment.entity';
import { EnvironmentService } from '../environment/environment.service';
import { PolicyService } from '../policy/policy.service';
import { type PromotionEntity } from '../promotion/promotion.entity';
import { type ArtifactView, type FreezeWindowsView } from './gate.dto';
import { GateRepository } from './gate.repository';

/** What lets a promotion skip parts of the gate (a rollback skips the soak and the chain). */
export interface GateOptions {
  skipSoak?: boolean;
  skipChain?: boolean;
}

/** Occurrences listed per window. */
const LISTED_OCCURRENCES = 3;

/**
 * The gate's I/O: reads the chain, the policies and the upstream promotions, and asks the pure
 * rules (libs/domain/promotion-gate.ts, freeze-windows.ts) for the decision.
 */
@Injectable()
export class PromotionGateService {
  constructor(
    private readonly repo: GateRepository,
    private readonly environments: EnvironmentService,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  /**
   * At intake: a digest enters an environment with upstreams only if it was promoted into one of
   * them (and, unless the active policy's `upstream.requireCurrent` is false, the tag there still
   * holds it). Refused with upstream_not_promoted naming the upstreams.
   */
  async assertChain(env: EnvironmentEntity, digest: string): Promise<void> {
    if (env.upstreams.length === 0) return;
    const policy = env.activePolicyVersionId ? await this.policies.byId(env.activePolicyVersionId) : null;
    const standing = upstreamStanding(
      env.upstreams,
      await this.repo.occupancies(env.upstreams, digest),
      policy?.document.upstream?.requireCurrent ?? true,
    );
    if (!standing.ok) {
      throw new DomainError(
        ErrorCode.UpstreamNotPromoted,
        `${digest} may not enter ${env.name}: ${standing.reason}`,
        { environment: env.name, upstreams: [...standing.upstreams], digest },
      );
    }
  }

  /** The gate's decision for a promotion about to start (or whose wait ended). */
  async decide(p: PromotionEntity, options: GateOptions = {}): Promise<GateDecision> {
    // Cached briefly, like everything the copy reads of its environment (CACHE_BOUNDS.environments).
    const env = await this.environments.byIdCached(p.environmentId);
    const pinned = (await this.policies.byId(p.policyVersionId)).document;
    return evaluateGate({
      now: new Date(this.clock.now()),
      upstreams: env.upstreams,
      occupancies: await this.repo.occupancies(env.upstreams, p.digest),
      upstream: pinned.upstream,
      soak: pinned.soak,
      skipSoak: options.skipSoak,
      skipChain: options.skipChain,
      windows: await this.windows(env),
      breakGlass: p.breakGlass,
    });
  }

  /**
   * What the gate would decide now for `digest` entering `env` under `policy` (a dry run: no
   * promotion, no break-glass). The freeze windows are the active policy's, as for a real copy.
   */
  async preview(env: EnvironmentEntity, policy: PolicyDocument, digest: string): Promise<GateDecision> {
    return evaluateGate({
      now: new Date(this.clock.now()),
      upstreams: env.upstreams,
      occupancies: await this.repo.occupancies(env.upstreams, digest),
      upstream: policy.upstream,
      soak: policy.soak,
      windows: await this.windows(env),
      breakGlass: false,
    });
  }

  /** The rules' clock, for delays computed from a decision. */
  now(): number {
    return this.clock.now();
  }

  /** The environment's freeze windows now: its active policy's. */
  private async windows(env: EnvironmentEntity): Promise<FreezeWindow[]> {
    if (!env.activePolicyVersionId) return [];
    return (await this.policies.byId(env.activePolicyVersionId)).document.freeze?.windows ?? [];
  }

  /** GET /v1/environments/:name/freeze-windows: the windows with their next occurrences. */
  async freezeWindows(name: string): Promise<FreezeWindowsView> {
    const env = await this.environments.byNameFresh(name);
    const windows = await this.windows(env);
    const now = new Date(this.clock.now());
    const state = freezeAt(windows, now);
    return {
      environment: env.name,
      now: now.toISOString(),
      frozen: state.frozen,
      frozenUntil: state.frozen && state.until ? state.until.toISOString() : null,
      frozenBy: state.frozen ? state.by : [],
      windows: windows.map((w) => ({
        ...w,
        next: nextOccurrences(w, now, LISTED_OCCURRENCES).map((o) => ({
          start: o.start.toISOString(),
          end: o.end.toISOString(),
        })),
      })),
    };
  }

  /** GET /v1/artifacts/:digest: the digest's promotions per environment, with each one's chain. */
  async artifact(digest: string): Promise<ArtifactView> {
    const rows = await this.repo.promotionsOf(digest, null);
    const names = [...new Set(rows.map((r) => r.environment))];
    const envs = await Promise.all(names.map((n) => this.environments.byNameCached(n)));
    return {
      digest,
      environments: envs.map((e) => ({
        environment: e.name,
        upstreams: e.upstreams,
        promotions: rows
          .filter((r) => r.environment === e.name)
          .map((r) => ({
            id: r.id,
            status: r.status,
            tag: r.tag,
            target: `${r.target}@${digest}`,
            requestedAt: r.createdAt.toISOString(),
            promotedAt: r.promotedAt?.toISOString() ?? null,
            current: r.promotedAt !== null && r.supersededAt === null,
            supersededAt: r.supersededAt?.toISOString() ?? null,
            waitingFor: r.waitingFor,
            waitingUntil: r.waitingUntil?.toISOString() ?? null,
          })),
      })),
    };
  }
}
