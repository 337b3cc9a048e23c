import { type CheckOutcome, CheckStatus } from './policy';
import { isValidRepositoryPattern, matchesRepositoryPattern } from './repository-pattern';

/**
 * The waivers section of a policy: whether exceptions may be granted in the environment at all,
 * for how long at most, and whether signature checks may be waived (never, unless said here).
 * Without the section no waiver can be requested or granted.
 */
export interface WaiversSection {
  /** A waiver expires at most this many days after it is requested. */
  maxDays: number;
  /** Signature and attestation checks may be waived: off unless the policy says so. */
  allowSignatureWaivers?: boolean;
}

export const WAIVERS_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['maxDays'],
  properties: {
    maxDays: { type: 'integer', minimum: 1, maximum: 365, description: 'Longest a waiver may last' },
    allowSignatureWaivers: { type: 'boolean', default: false },
  },
} as const;

/**
 * A waiver's life: `requested` by one person, `granted` by another (linked identities count once),
 * or `revoked` by either (before or after the grant). A granted waiver stops applying at its
 * expiry without changing status (see waiverState).
 */
export enum WaiverStatus {
  Requested = 'requested',
  Granted = 'granted',
  Revoked = 'revoked',
}

/** Checks whose waiver the policy must allow explicitly (allowSignatureWaivers). */
export const SIGNATURE_CHECKS: ReadonlySet<string> = new Set(['signatures', 'attestations']);

/** What a waiver lets pass, and where: one check or one finding, for a digest or a repository pattern. */
export interface WaiverRule {
  id: string;
  /** The check kind (`vulnerabilities`, `secrets`, `licenses`, `signatures`, …). */
  check: string;
  /** One finding of that check (an advisory id or alias, a secret fingerprint, a license); null: the check. */
  finding: string | null;
  digest: string | null;
  repositoryPattern: string | null;
}

/** The state a person reads: a granted waiver past its expiry is `expired`. */
export function waiverState(
  status: WaiverStatus,
  expiresAt: Date,
  now: number,
): 'requested' | 'active' | 'expired' | 'revoked' {
  if (status === WaiverStatus.Revoked) return 'revoked';
  if (expiresAt.getTime() <= now) return 'expired';
  return status === WaiverStatus.Granted ? 'active' : 'requested';
}

/**
 * Why a waiver may not be requested or granted under this policy now; empty: it may. Checked when
 * it is requested and again when it is granted (the active policy may have changed in between).
 */
export function waiverProblems(
  section: WaiversSection | undefined,
  w: Pick<WaiverRule, 'check' | 'finding' | 'digest' | 'repositoryPattern'> & {
    expiresAt: Date;
    /** When it was requested: maxDays count from here. */
    from: number;
    now: number;
  },
): string[] {
  const problems: string[] = [];
  if (!section) return ['the active policy allows no waivers (it has no waivers section)'];
  if ((w.digest === null) === (w.repositoryPattern === null)) {
    problems.push('name exactly one of digest or repositoryPattern');
  }
  if (w.repositoryPattern !== null && !isValidRepositoryPattern(w.repositoryPattern)) {
    problems.push('repositoryPattern: not a repository pattern (team/app, team/*, team/**)');
  }
  if (SIGNATURE_CHECKS.has(w.check) && !section.allowSignatureWaivers) {
    problems.push(
      `${w.check} checks may be waived only where the policy allows it (waivers.allowSignatureWaivers)`,
    );
  }
  const latest = w.from + section.maxDays * 86_400_000;
  if (w.expiresAt.getTime() <= w.now) problems.push('expiresAt: must be in the future');
  else if (w.expiresAt.getTime() > latest) {
    problems.push(
      `expiresAt: at most ${section.maxDays} day(s) ahead (waivers.maxDays), i.e. ${new Date(latest).toISOString()}`,
    );
  }
  return problems;
}

/**
 * The waivers a policy lets apply: none without a waivers section, and signature or attestation
 * waivers only where it allows them. A granted waiver stops applying when a later policy version
 * takes that away, without anyone having to revoke it.
 */
export function waiversAllowedBy<T extends Pick<WaiverRule, 'check'>>(
  section: WaiversSection | undefined,
  waivers: readonly T[],
): T[] {
  if (!section) return [];
  return waivers.filter((w) => section.allowSignatureWaivers === true || !SIGNATURE_CHECKS.has(w.check));
}

/** Whether a waiver covers this image (its digest, or its repository by pattern). */
export function waiverCovers(w: WaiverRule, image: { repository: string; digest: string }): boolean {
  if (w.digest !== null) return w.digest === image.digest;
  return w.repositoryPattern !== null && matchesRepositoryPattern(w.repositoryPattern, image.repository);
}

/** The names a finding goes by, that a waiver may name: advisory id and aliases, fingerprint, license. */
export function findingNames(finding: unknown): string[] {
  if (finding === null || typeof finding !== 'object') return [];
  const f = finding as Record<string, unknown>;
  const names: string[] = [];
  for (const key of ['advisory', 'fingerprint', 'license']) {
    if (typeof f[key] === 'string') names.push(f[key]);
  }
  if (Array.isArray(f.aliases)) names.push(...f.aliases.filter((a): a is string => typeof a === 'string'));
  return names;
}

/** A check result as the stage has it, with its findings. */
export interface WaivableResult extends CheckOutcome {
  findings: unknown[];
}

/** Which waiver let what pass: the check (finding null) or one finding. */
export interface AppliedWaiver {
  waiver: string;
  finding: string | null;
}

/**
 * Applies granted, unexpired waivers (already filtered to this image and environment) to a check
 * result. A waived result is never a pass: a failing check whose every blocking finding is waived,
 * or that is waived as a whole, becomes `waived`; waived findings keep their place, marked with the
 * waiver's id. A check that errored is never waived (it did not run: there is nothing to excuse).
 *
 * The blocking lines of the SBOM and secret checks list the blocking findings first, in order,
 * then causes that are no finding (an unreadable SBOM, an unresolved version); a waived finding's
 * line is dropped by that position, and a remaining cause keeps the check failing.
 */
export function applyWaivers<T extends WaivableResult>(
  result: T,
  waivers: readonly WaiverRule[],
): T & { waivers: AppliedWaiver[] } {
  const mine = waivers.filter((w) => w.check === result.kind);
  if (result.status !== CheckStatus.Fail || mine.length === 0) return { ...result, waivers: [] };
  const whole = mine.find((w) => w.finding === null);
  if (whole) {
    return {
      ...result,
      status: CheckStatus.Waived,
      summary: `${result.summary} — waived by ${whole.id}`,
      blocking: [],
      waivers: [{ waiver: whole.id, finding: null }],
    };
  }
  const applied: AppliedWaiver[] = [];
  const blockingLines = result.blocking ?? [];
  const keptLines: string[] = [];
  let blockingIndex = 0;
  const findings = result.findings.map((f) => {
    const isBlocking = (f as { blocking?: unknown } | null)?.blocking === true;
    if (!isBlocking) return f;
    const index = blockingIndex++;
    const names = findingNames(f);
    const w = mine.find((x) => x.finding !== null && names.includes(x.finding));
    if (!w) {
      if (index < blockingLines.length) keptLines.push(blockingLines[index]);
      return f;
    }
    applied.push({ waiver: w.id, finding: w.finding });
    return { ...(f as object), blocking: false, waived: w.id };
  });
  if (applied.length === 0) return { ...result, waivers: [] };
  keptLines.push(...blockingLines.slice(blockingIndex));
  const ids = [...new Set(applied.map((a) => a.waiver))].join(', ');
  return {
    ...result,
    findings,
    status: keptLines.length === 0 ? CheckStatus.Waived : CheckStatus.Fail,
    summary: `${result.summary} — ${applied.length} finding(s) waived by ${ids}`,
    blocking: keptLines,
    waivers: applied,
  };
}
