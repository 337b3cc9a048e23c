import { Injectable } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { JobQueue } from '../../jobs';
import { OpsRepository } from './ops.repository';

export type Settled<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The only Redis eviction policy under which Redis never drops a queued job to free memory. */
const SAFE_REDIS_POLICY = 'noeviction';

export interface Readiness {
  ready: boolean;
  postgres: 'ok' | 'unreachable';
  redis: 'ok' | 'unreachable';
  /** Redis's maxmemory-policy, or `unknown` when Redis is down or refuses CONFIG GET. */
  redisMaxmemoryPolicy: string;
  /** Why the process is not ready, one line per cause; empty when ready. */
  reasons: string[];
}

/**
 * Asks Postgres and Redis how they are, never waiting longer than DEPENDENCY_TIMEOUT_MS: /readyz
 * and /metrics must answer most of all when a dependency is dead (that is when they are read).
 */
@Injectable()
export class DependencyHealth {
  constructor(
    private readonly ops: OpsRepository,
    private readonly queue: JobQueue,
    private readonly config: AirlockConfig,
  ) {}

  /** The work's outcome, or a failure once DEPENDENCY_TIMEOUT_MS has passed (the work runs on). */
  within<T>(work: () => Promise<T>): Promise<Settled<T>> {
    const ms = this.config.DEPENDENCY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Settled<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${ms} ms` }), ms);
    });
    const done = Promise.resolve()
      .then(work)
      .then(
        (value): Settled<T> => ({ ok: true, value }),
        (e: unknown): Settled<T> => ({ ok: false, reason: reasonOf(e) }),
      );
    return Promise.race([done, late]).finally(() => clearTimeout(timer));
  }

  async readiness(): Promise<Readiness> {
    const [pg, ping, policy] = await Promise.all([
      this.within(() => this.ops.ping()),
      this.within(() => this.queue.ping()),
      this.within(() => this.queue.maxmemoryPolicy()),
    ]);
    const reasons: string[] = [];
    if (!pg.ok) reasons.push(`postgres: ${pg.reason}`);
    const redisUp = ping.ok && ping.value;
    if (!redisUp) reasons.push(`redis: ${ping.ok ? 'unexpected answer to PING' : ping.reason}`);
    const redisMaxmemoryPolicy = policy.ok ? (policy.value ?? 'unknown') : 'unknown';
    if (redisUp && redisMaxmemoryPolicy !== 'unknown' && redisMaxmemoryPolicy !== SAFE_REDIS_POLICY) {
      reasons.push(
        `redis: maxmemory-policy is ${redisMaxmemoryPolicy}, which lets Redis evict queued jobs; set ${SAFE_REDIS_POLICY}`,
      );
    }
    return {
      ready: reasons.length === 0,
      postgres: pg.ok ? 'ok' : 'unreachable',
      redis: redisUp ? 'ok' : 'unreachable',
      redisMaxmemoryPolicy,
      reasons,
    };
  }
}

/** A short cause for a probe's failure: the driver's message, never a stack. */
function reasonOf(e: unknown): string {
  const cause = (e as { cause?: unknown } | undefined)?.cause;
  const inner = cause instanceof Error ? cause.message || (cause as { code?: string }).code : undefined;
  const outer = e instanceof Error ? e.message : String(e);
  return inner ? `${outer} (${inner})` : outer;
}
