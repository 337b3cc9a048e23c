import { DURATION, parseDurationSeconds } from './duration';
import { type FreezeWindow, freezeAt } from './freeze-windows';

/**
 * The gate between approved and the copy: environment chains, soak time and freeze windows, in one
 * place. The intake asks only for the chain (`upstreamStanding`); the promoter asks for all of it
 * (`evaluateGate`) when a promotion is about to start, and again whenever a wait ends.
 */

/**
 * One promotion of the digest into an upstream environment, as Airlock recorded it: the digest
 * has been there since `promotedAt`, until another digest took the same target tag (`supersededAt`).
 * A promotion without a tag is never superseded.
 */
export interface UpstreamOccupancy {
  environment: string;
  promotionId: string;
  tag: string | null;
  promotedAt: Date;
  supersededAt: Date | null;
}

/** The policy's `upstream` section: may a digest the upstream tag no longer points to go on? */
export interface UpstreamSection {
  /** Default true: the upstream tag must still hold the digest (Airlock's records). */
  requireCurrent?: boolean;
}

/** The policy's `soak` section: how long the digest must have been in an upstream, continuously. */
export interface SoakSection {
  duration: string;
}

export const UPSTREAM_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'How an environment with upstreams judges the upstream promotion',
  properties: {
    requireCurrent: {
      type: 'boolean',
      default: true,
      description:
        'The upstream tag must still point to the digest (false: having been promoted there is enough)',
    },
  },
} as const;

export const SOAK_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['duration'],
  description: 'The digest must have been in an upstream environment continuously this long',
  properties: { duration: { type: 'string', pattern: DURATION.source, description: 'e.g. 24h' } },
} as const;

export type UpstreamStanding =
  | { ok: true; relied: UpstreamOccupancy | null }
  | { ok: false; reason: string; upstreams: readonly string[] };

/**
 * Whether a digest may enter an environment with these upstreams: it was promoted into one of them
 * and (unless `requireCurrent` is false) that upstream's tag still holds it. The occupancy relied
 * on is the one in place longest (the best soak), current ones first.
 */
export function upstreamStanding(
  upstreams: readonly string[],
  occupancies: readonly UpstreamOccupancy[],
  requireCurrent = true,
): UpstreamStanding {
  if (upstreams.length === 0) return { ok: true, relied: null };
  const inChain = occupancies.filter((o) => upstreams.includes(o.environment));
  const usable = requireCurrent ? inChain.filter((o) => o.supersededAt === null) : inChain;
  if (usable.length === 0) {
    const names = upstreams.join(' or ');
    return {
      ok: false,
      upstreams,
      reason:
        inChain.length > 0
          ? `the digest was promoted into ${names}, but the tag there points to another digest now`
          : `the digest was never promoted into ${names}`,
    };
  }
  const ranked = [...usable].sort(
    (a, b) =>
      Number(a.supersededAt !== null) - Number(b.supersededAt !== null) ||
      a.promotedAt.getTime() - b.promotedAt.getTime(),
  );
  return { ok: true, relied: ranked[0] };
}

/** What the gate relied on and observed: kept on the promotion and in Airlock's attestation. */
export interface GateEvidence {
  upstream: { environment: string; promotionId: string; tag: string | null; promotedAt: string } | null;
  soak: {
    required: string;
    /** Skipped (a rollback); the observed time is still reported. */
    skipped: boolean;
    since: string;
    observedSeconds: number;
  } | null;
  freeze: { overridden: boolean; windows: string[] };
}

export type GateDecision =
  | { action: 'proceed'; evidence: GateEvidence }
  | { action: 'wait'; for: WaitingFor; until: Date; reason: string }
  | { action: 'refuse'; reason: string };

export type WaitingFor = 'soak' | 'freeze';

export interface GateInput {
  now: Date;
  upstreams: readonly string[];
  occupancies: readonly UpstreamOccupancy[];
  upstream?: UpstreamSection;
  soak?: SoakSection;
  /** Soak does not hold this promotion (a rollback: back to what ran before). */
  skipSoak?: boolean;
  /**
   * The chain does not hold it either (a rollback to a digest promoted here before, which the
   * upstream may have moved past): what it finds upstream is still reported as evidence.
   */
  skipChain?: boolean;
  /** The environment's freeze windows now (its active policy's, not the pinned one's). */
  windows: readonly FreezeWindow[];
  /** Break-glass was used: a freeze does not hold it, and the evidence says it was overridden. */
  breakGlass: boolean;
}

/**
 * The gate's decision for a promotion about to start. Chain first (refused: the upstream no longer
 * holds the digest), then soak (wait until it has been in the upstream long enough; an occupancy
 * that was superseded before the soak ended does not count: the soak starts over with the digest's
 * next promotion there), then freeze windows (wait until they end, unless the glass was broken).
 */
export function evaluateGate(g: GateInput): GateDecision {
  // A rollback's evidence may name an upstream promotion the tag there has moved past.
  const requireCurrent = !g.skipChain && (g.upstream?.requireCurrent ?? true);
  const standing = upstreamStanding(g.upstreams, g.occupancies, requireCurrent);
  if (!standing.ok && !g.skipChain) return { action: 'refuse', reason: standing.reason };
  const relied = standing.ok ? standing.relied : null;
  let soak: GateEvidence['soak'] = null;
  let upstreamOf = relied;
  if (g.soak && g.upstreams.length > 0) {
    const need = parseDurationSeconds(g.soak.duration) * 1000;
    const candidates = g.occupancies.filter(
      (o) => g.upstreams.includes(o.environment) && (!requireCurrent || o.supersededAt === null),
    );
    const soaked = candidates.find(
      (o) =>
        o.promotedAt.getTime() + need <= g.now.getTime() &&
        (o.supersededAt === null || o.supersededAt.getTime() - o.promotedAt.getTime() >= need),
    );
    const current = candidates.find((o) => o.supersededAt === null);
    upstreamOf = soaked ?? current ?? relied;
    if (!soaked && !g.skipSoak) {
      if (!current)
        return {
          action: 'refuse',
          reason: 'the soak cannot end: the digest no longer holds an upstream tag',
        };
      const until = new Date(current.promotedAt.getTime() + need);
      return {
        action: 'wait',
        for: 'soak',
        until,
        reason: `soaking in ${current.environment} since ${current.promotedAt.toISOString()} for ${g.soak.duration}`,
      };
    }
    if (upstreamOf) {
      const end = upstreamOf.supersededAt ?? g.now;
      soak = {
        required: g.soak.duration,
        skipped: !soaked,
        since: upstreamOf.promotedAt.toISOString(),
        observedSeconds: Math.max(0, Math.floor((end.getTime() - upstreamOf.promotedAt.getTime()) / 1000)),
      };
    }
  }
  return freezeOrProceed(g, upstreamOf, soak);
}

/** The last step: freeze windows (unless the glass was broken), then go with the evidence. */
function freezeOrProceed(
  g: GateInput,
  upstreamOf: UpstreamOccupancy | null,
  soak: GateEvidence['soak'],
): GateDecision {
  const freeze = freezeAt(g.windows, g.now);
  if (freeze.frozen && !g.breakGlass) {
    if (freeze.until === null) {
      return { action: 'refuse', reason: `frozen by ${freeze.by.join(', ')} with no end in sight` };
    }
    return {
      action: 'wait',
      for: 'freeze',
      until: freeze.until,
      reason: `frozen by ${freeze.by.join(', ')}`,
    };
  }
  return {
    action: 'proceed',
    evidence: {
      upstream: upstreamOf
        ? {
            environment: upstreamOf.environment,
            promotionId: upstreamOf.promotionId,
            tag: upstreamOf.tag,
            promotedAt: upstreamOf.promotedAt.toISOString(),
          }
        : null,
      soak,
      freeze: { overridden: freeze.frozen, windows: freeze.frozen ? freeze.by : [] },
    },
  };
}
