import { type ApprovalsSection, approvalsNeeded } from './approval-rules';
import { type PolicyDocument } from './policy';

/**
 * What a promotion is: a new digest moving into an environment, or a rollback moving a tag back to
 * a digest Airlock promoted there before. A rollback goes through the same lifecycle (checks,
 * approvals, copy, attestation) under its own, lighter, rules below.
 */
export enum PromotionKind {
  Promotion = 'promotion',
  Rollback = 'rollback',
}

export const isRollback = (p: { kind: PromotionKind }): boolean => p.kind === PromotionKind.Rollback;

/**
 * The `rollback` section of a policy. Rules, in one place:
 * - `approvals`: how many distinct approvers a rollback needs (0 allowed: an on-call may roll back
 *   alone). Never more than a promotion needs (a way back is never harder than the way in); when
 *   absent, the same as a promotion. Who may approve (groups, separation of duties, expiry,
 *   pending timeout) is the promotion's: when every promotion rule names groups, a rollback's
 *   approvers come from those groups.
 * - Signature and attestation checks always run again, under the policy active now: a rollback is
 *   never less checked than its signatures (a key revoked since the first promotion still refuses).
 * - Scans (secrets, vulnerabilities, licenses) ran at the original promotion and are skipped unless
 *   `rescan: true`.
 * - Soak and chain rules do not apply to a rollback; freeze windows do (break-glass overrides them).
 */
export interface RollbackSection {
  approvals?: number;
  rescan?: boolean;
}

export const ROLLBACK_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description:
    'What a rollback needs. Signatures and attestations are always checked again; scans only with rescan.',
  properties: {
    approvals: {
      type: 'integer',
      minimum: 0,
      maximum: 20,
      description: 'Distinct approvers a rollback needs (default: as a promotion; never more)',
    },
    rescan: {
      type: 'boolean',
      default: false,
      description: 'Run the scans again (they ran at the original promotion)',
    },
  },
} as const;

/** Problems beyond the schema: a rollback never needs more approvals than a promotion. */
export function rollbackSectionProblems(policy: PolicyDocument): string[] {
  const wanted = policy.rollback?.approvals;
  const promotion = approvalsNeeded(policy.approvals);
  return wanted !== undefined && wanted > promotion
    ? [
        `/rollback/approvals: a rollback may not need more approvals (${wanted}) than a promotion (${promotion})`,
      ]
    : [];
}

/** The approvals section a rollback is decided under. */
function rollbackApprovals(approvals: ApprovalsSection, required: number | undefined): ApprovalsSection {
  if (required === undefined) return approvals;
  const rules = approvals.rules ?? [];
  const groups = rules.every((r) => r.groups?.length)
    ? [...new Set(rules.flatMap((r) => r.groups ?? []))]
    : [];
  const { expiresAfter, pendingTimeout, separationOfDuties } = approvals;
  return {
    ...(required > 0
      ? { rules: [{ name: 'rollback', required, ...(groups.length > 0 ? { groups } : {}) }] }
      : { required: 0 }),
    ...(expiresAfter !== undefined ? { expiresAfter } : {}),
    ...(pendingTimeout !== undefined ? { pendingTimeout } : {}),
    ...(separationOfDuties !== undefined ? { separationOfDuties } : {}),
  };
}

/**
 * The policy a promotion of this kind is checked and approved under: the document itself for a
 * promotion; for a rollback, its rollback rules applied (approvals, scans skipped unless rescan).
 * Everything that decides on a promotion (check stage, approvals, expiry) reads the policy through
 * this, so a rollback's rules are in this one function.
 */
export function policyFor(policy: PolicyDocument, kind: PromotionKind): PolicyDocument {
  if (kind !== PromotionKind.Rollback) return policy;
  const section = policy.rollback ?? {};
  const { scans, rollback: _rules, ...rest } = policy;
  return {
    ...rest,
    approvals: rollbackApprovals(policy.approvals, section.approvals),
    ...(section.rescan && scans ? { scans } : {}),
  };
}
