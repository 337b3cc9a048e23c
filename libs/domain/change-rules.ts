import { isSamePerson, type PersonNames } from './persons';

/**
 * What a proposed change to who is trusted can be. Each kind is applied by the service that owns
 * the thing (IdentityService, IdentityLinkService, EnvironmentService), never by hand.
 */
export enum ChangeKind {
  TrustedIssuerAdd = 'trusted_issuer.add',
  TrustedIssuerRemove = 'trusted_issuer.remove',
  RoleBindingAdd = 'role_binding.add',
  RoleBindingRemove = 'role_binding.remove',
  IdentityLinkAdd = 'identity_link.add',
  IdentityLinkRemove = 'identity_link.remove',
  EnvironmentCreate = 'environment.create',
  /** Which environments a digest must have been promoted into first (the chain). */
  EnvironmentSetUpstreams = 'environment.set_upstreams',
}

/**
 * A change's status. Only `proposed` is open; the others are terminal: `applied` (a second person
 * approved it and it took effect), `rejected` (another admin said no), `withdrawn` (the proposer
 * took it back), `failed` (approved, but it could no longer apply — e.g. the binding was already
 * removed or the environment name taken meanwhile — so nothing changed).
 */
export enum ChangeStatus {
  Proposed = 'proposed',
  Applied = 'applied',
  Rejected = 'rejected',
  Withdrawn = 'withdrawn',
  Failed = 'failed',
}

/**
 * Four eyes on trust: whether the person deciding is the one who proposed. `proposer` lists the
 * proposer's person as recorded when they proposed and as the links resolve it now, so a link
 * added in between cannot launder a self-approval.
 */
export function isProposer(decider: PersonNames, proposer: readonly string[]): boolean {
  return proposer.some((p) => isSamePerson(decider, p));
}

/** A reject by the proposer themself withdraws the change; by anyone else, rejects it. */
export function rejectOutcome(decider: PersonNames, proposer: readonly string[]): ChangeStatus {
  return isProposer(decider, proposer) ? ChangeStatus.Withdrawn : ChangeStatus.Rejected;
}
