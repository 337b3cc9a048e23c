import { ChangeKind } from '../../domain';
import { type CreateEnvironmentDto } from '../environment/environment.dto';
import { type IdentityLinkView } from '../identity/identity-link.service';
import {
  type CreateRoleBindingDto,
  type CreateTrustedIssuerDto,
  type RoleBindingView,
  type TrustedIssuerView,
} from '../identity/identity.dto';

/**
 * What each kind of change carries: the request body as validated (for removals, the id plus a
 * snapshot of what it removes, for the reviewer). Never a secret: credential profiles name theirs.
 */
export interface ChangePayloads {
  [ChangeKind.TrustedIssuerAdd]: CreateTrustedIssuerDto;
  [ChangeKind.TrustedIssuerRemove]: { id: string; removes?: TrustedIssuerView };
  [ChangeKind.RoleBindingAdd]: CreateRoleBindingDto;
  [ChangeKind.RoleBindingRemove]: { id: string; removes?: RoleBindingView };
  [ChangeKind.IdentityLinkAdd]: { identity: string; person: string };
  [ChangeKind.IdentityLinkRemove]: { identity: string; removes?: IdentityLinkView };
  [ChangeKind.EnvironmentCreate]: CreateEnvironmentDto;
}

export type ChangeRequest = { [K in ChangeKind]: { kind: K; payload: ChangePayloads[K] } }[ChangeKind];

interface BindingFields {
  role: string;
  issuer: string;
  environment?: string | null;
  subject?: string | null;
  group?: string | null;
  repositoryPattern?: string | null;
}

function binding(b: BindingFields): string {
  const who = [
    b.subject ? `subject ${b.subject}` : null,
    b.group ? `group ${b.group}` : null,
    b.repositoryPattern ? `repositories ${b.repositoryPattern}` : null,
  ].filter((w): w is string => w !== null);
  const where = b.environment ? `in ${b.environment}` : 'in every environment';
  return `${b.role} ${where} to ${who.join(' and ') || 'everyone'} of ${b.issuer}`;
}

function profile(c: { clientId: string; issuer: string } | undefined): string {
  return c ? ` with credentials of client ${c.clientId} at ${c.issuer}` : '';
}

/** One line a reviewer reads before approving: what the change does, in the API's own words. */
export function changeSummary(req: ChangeRequest): string {
  switch (req.kind) {
    case ChangeKind.TrustedIssuerAdd:
      return `trust issuer ${req.payload.issuer} for ${req.payload.kind} callers (audience ${req.payload.audience})`;
    case ChangeKind.TrustedIssuerRemove:
      return `stop trusting issuer ${req.payload.removes?.issuer ?? req.payload.id}`;
    case ChangeKind.RoleBindingAdd:
      return `grant ${binding(req.payload)}`;
    case ChangeKind.RoleBindingRemove:
      return req.payload.removes
        ? `revoke ${binding(req.payload.removes)} (binding ${req.payload.id})`
        : `revoke role binding ${req.payload.id}`;
    case ChangeKind.IdentityLinkAdd:
      return `link identity ${req.payload.identity} to person ${req.payload.person}`;
    case ChangeKind.IdentityLinkRemove:
      return `unlink identity ${req.payload.identity}${req.payload.removes ? ` from person ${req.payload.removes.person}` : ''}`;
    case ChangeKind.EnvironmentCreate: {
      const e = req.payload;
      const sources = e.sources
        .map((s) => `${s.registry} (${s.repositories.join(', ')})${profile(s.credentials)}`)
        .join('; ');
      return `create environment ${e.name}: target ${e.target.registry}/${e.target.repository}${profile(e.target.credentials)}; sources ${sources}`;
    }
  }
}
