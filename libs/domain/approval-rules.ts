import { parseDurationSeconds } from './duration';
import { isSamePerson } from './persons';

/**
 * The approval section of a policy, normalised: every rule must be met, by distinct people.
 * `required: n` in a policy is shorthand for one rule of n approvers from any group.
 */
export interface ApprovalRule {
  name: string;
  required: number;
  /** Approvers must belong to one of these groups; null: any approver of the environment. */
  groups: string[] | null;
}

export interface SeparationOfDuties {
  /** The identity that requested the promotion cannot approve it. */
  requesterCannotApprove: boolean;
  /** The human actor behind the CI run (and the commit author in provenance) cannot approve. */
  authorCannotApprove: boolean;
}

export interface ApprovalRequirements {
  rules: ApprovalRule[];
  /** A granted approval stops counting this long after it was given. */
  expiresAfterSeconds: number | null;
  /** A request nobody decides within this long becomes `expired`. */
  pendingTimeoutSeconds: number | null;
  separationOfDuties: SeparationOfDuties;
}

/** The approvals section as written in a policy document (validated by POLICY_SCHEMA). */
export interface ApprovalsSection {
  required?: number;
  rules?: Array<{ name: string; required: number; groups?: string[] }>;
  expiresAfter?: string;
  pendingTimeout?: string;
  separationOfDuties?: Partial<SeparationOfDuties>;
}

export function approvalRequirements(section: ApprovalsSection): ApprovalRequirements {
  const rules: ApprovalRule[] = section.rules
    ? section.rules.map((r) => ({
        name: r.name,
        required: r.required,
        groups: r.groups?.length ? r.groups : null,
      }))
    : section.required
      ? [{ name: 'approvals', required: section.required, groups: null }]
      : [];
  return {
    rules: rules.filter((r) => r.required > 0),
    expiresAfterSeconds: section.expiresAfter ? parseDurationSeconds(section.expiresAfter) : null,
    pendingTimeoutSeconds: section.pendingTimeout ? parseDurationSeconds(section.pendingTimeout) : null,
    // Safe by default: an admin has to switch a rule off explicitly.
    separationOfDuties: {
      requesterCannotApprove: section.separationOfDuties?.requesterCannotApprove ?? true,
      authorCannotApprove: section.separationOfDuties?.authorCannotApprove ?? true,
    },
  };
}

export function approvalsNeeded(section: ApprovalsSection): number {
  return approvalRequirements(section).rules.reduce((n, r) => n + r.required, 0);
}

/** Why an approval is refused. Stable codes: clients and tests rely on them. */
export enum ApprovalRefusal {
  SelfApproval = 'self_approval',
  CommitAuthor = 'commit_author',
  NotApprover = 'not_approver',
  NotInRuleGroups = 'not_in_rule_groups',
  AlreadyDecided = 'already_decided',
  NotAwaitingApproval = 'not_awaiting_approval',
  StaleReview = 'stale_review',
  CommentRequired = 'comment_required',
}

/** What separation of duties needs to know about the request. */
export interface RequestParties {
  /** The person behind the requesting identity. */
  requesterPerson: string;
  /** People named as the CI run's actor or the commit's author (already resolved to persons). */
  authorPersons: string[];
}

/** What is known about someone deciding. */
export interface Decider {
  person: string;
  /** Every name this person goes by: their person id and handles (e.g. `handle:carol`). */
  aliases: readonly string[];
  isApprover: boolean;
  groups: readonly string[];
}

/**
 * Whether this person may decide at all, before counting: roles, separation of duties, groups.
 * Returns the first reason that applies (each is final for this person).
 */
export function refusalFor(
  decider: Decider,
  parties: RequestParties,
  req: ApprovalRequirements,
  decision: 'approve' | 'reject',
): ApprovalRefusal | null {
  if (!decider.isApprover) return ApprovalRefusal.NotApprover;
  const sod = req.separationOfDuties;
  const is = (who: string): boolean => isSamePerson(decider, who);
  if (sod.requesterCannotApprove && is(parties.requesterPerson)) return ApprovalRefusal.SelfApproval;
  if (sod.authorCannotApprove && parties.authorPersons.some(is)) return ApprovalRefusal.CommitAuthor;
  // A reject from any approver of the environment stops the request; an approval must be able
  // to count for some rule.
  if (decision === 'approve' && req.rules.length > 0 && !req.rules.some((r) => inRule(r, decider.groups))) {
    return ApprovalRefusal.NotInRuleGroups;
  }
  return null;
}

function inRule(rule: ApprovalRule, groups: readonly string[]): boolean {
  return rule.groups === null || rule.groups.some((g) => groups.includes(g));
}

export interface CountedApproval {
  person: string;
  groups: readonly string[];
  /** ms since epoch */
  at: number;
}

export interface Tally {
  satisfied: boolean;
  /** For each rule, the people counted for it. */
  assignment: Record<string, string[]>;
  /** For each rule still short, how many more are needed. */
  missing: Record<string, number>;
  /** Approvals that no longer count because they are older than the policy allows. */
  expired: string[];
}

/**
 * Counts approvals against every rule, each person at most once across all rules. The best
 * assignment is found as a maximum bipartite matching (rules expanded into slots), so the order
 * in which people approved never decides whether the rules are met.
 */
export function tallyApprovals(
  approvals: readonly CountedApproval[],
  req: ApprovalRequirements,
  now: number,
): Tally {
  const expired: string[] = [];
  const people = new Map<string, CountedApproval>();
  for (const a of approvals) {
    if (req.expiresAfterSeconds !== null && now - a.at > req.expiresAfterSeconds * 1000) {
      expired.push(a.person);
      continue;
    }
    if (!people.has(a.person)) people.set(a.person, a);
  }
  const slots = req.rules.flatMap((r) => Array.from({ length: r.required }, () => r));
  const slotOwner: Array<string | null> = slots.map(() => null);
  const eligible = (person: string, slot: number): boolean =>
    inRule(slots[slot], people.get(person)?.groups ?? []);

  const augment = (person: string, seen: Set<number>): boolean => {
    for (let s = 0; s < slots.length; s++) {
      if (seen.has(s) || !eligible(person, s)) continue;
      seen.add(s);
      const owner = slotOwner[s];
      if (owner === null || augment(owner, seen)) {
        slotOwner[s] = person;
        return true;
      }
    }
    return false;
  };
  for (const person of people.keys()) augment(person, new Set());

  const assignment: Record<string, string[]> = {};
  const missing: Record<string, number> = {};
  for (const r of req.rules) assignment[r.name] = [];
  slots.forEach((rule, s) => {
    const owner = slotOwner[s];
    if (owner) assignment[rule.name].push(owner);
    else missing[rule.name] = (missing[rule.name] ?? 0) + 1;
  });
  return { satisfied: Object.keys(missing).length === 0, assignment, missing, expired };
}

/** A recorded approval, with its approver as they stand now: current bindings, links and rules. */
export interface StandingApproval {
  decider: Decider;
  /** ms since epoch */
  at: number;
}

export interface ApprovalCount extends Tally {
  /** Approvals that stopped counting because their approver no longer may approve, and why. */
  lapsed: Array<{ person: string; refusal: ApprovalRefusal }>;
}

/**
 * Counts approvals as they stand now: each must still pass `refusalFor` (its approver still holds
 * the approver role for the environment, is still not the requester or an author under today's
 * identity links, still in a rule's groups) when the count is made, not only when it was given.
 * So removing a role binding, an identity link or a trusted issuer takes effect on the next count.
 */
export function countApprovals(
  approvals: readonly StandingApproval[],
  parties: RequestParties,
  req: ApprovalRequirements,
  now: number,
): ApprovalCount {
  const lapsed: ApprovalCount['lapsed'] = [];
  const counted: CountedApproval[] = [];
  for (const a of approvals) {
    const refusal = refusalFor(a.decider, parties, req, 'approve');
    if (refusal) lapsed.push({ person: a.decider.person, refusal });
    else counted.push({ person: a.decider.person, groups: a.decider.groups, at: a.at });
  }
  return { ...tallyApprovals(counted, req, now), lapsed };
}
