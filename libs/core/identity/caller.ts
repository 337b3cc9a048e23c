import { type CiClaimsSnapshot } from '../promotion/promotion.entity';
import { type Actor, actorKey } from './actor';
import { type Role } from './role-binding.entity';

/** A role held in one environment, or in all of them when `environment` is null. */
export interface RoleGrant {
  role: Role;
  environment: string | null;
  /** Requester grants: the artifact repositories the binding allows (see `mayRequestRepository`). */
  artifactRepositoryPattern?: string;
}

/** The authenticated caller of a request, built from a verified token only. */
export interface Caller {
  actor: Actor;
  key: string;
  groups: string[];
  /** CI callers: the workload's repository, ref, sha, workflow and human actor. */
  claims: CiClaimsSnapshot;
  /** The token's jti and issuer: one CI token creates at most one promotion. */
  tokenJti: string | null;
  grants: RoleGrant[];
}

export function makeCaller(actor: Actor, fields: Omit<Caller, 'actor' | 'key'>): Caller {
  return { actor, key: actorKey(actor), ...fields };
}

export function hasRole(caller: Pick<Caller, 'grants'>, role: Role, environment?: string): boolean {
  return caller.grants.some(
    (g) =>
      g.role === role &&
      (g.environment === null || environment === undefined || g.environment === environment),
  );
}

/** Holds the role everywhere (not just in some environment). */
export function hasGlobalRole(caller: Caller, role: Role): boolean {
  return caller.grants.some((g) => g.role === role && g.environment === null);
}
