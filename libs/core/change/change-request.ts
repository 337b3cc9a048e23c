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
  [ChangeKind.EnvironmentSetUpstreams]: { environment: string; upstreams: string[]; previous?: string[] };
}

export type ChangeRequest = { [K in ChangeKind]: { kind: K; payload: ChangePayloads[K] } }[ChangeKind];

interface BindingFields {
  role: string;
  issuer: string;
  environment?: string | null;
  subject?: string | null;
  group?: string | null;
  repositoryPattern?: string | null;
  artifactRepositoryPattern?: string | null;
}

function binding(b: BindingFields): string {
  const who = [
    b.subject ? `subject ${b.subject}` : null,
    b.group ? `group ${b.group}` : null,
    b.repositoryPattern ? `repositories ${b.repositoryPattern}` : null,
  ].filter((w): w is string => w !== null);
  const where = b.environment ? `in ${b.environment}` : 'in every environment';
  // What widens trust is said in the line a reviewer reads, not only in the payload.
  const widens = b.artifactRepositoryPattern
    ? `, allowed to request artifacts of ${b.artifactRepositoryPattern}`
    : '';
  return `${b.role} ${where} to ${who.join(' and ') || 'everyone'} of ${b.issuer}${widens}`;
}

function profile(c: { clientId: string; issuer: string; services?: string[] } | undefined): string {
  if (!c) return '';
  const services = c.services?.length ? ` for ${c.services.join(', ')}` : '';
  return ` with credentials of client ${c.clientId} at ${c.issuer}${services}`;
}

/** The settings of a source or target that loosen how Airlock talks to it, in words. */
function loosened(r: {
  insecure?: boolean;
  tokenRealms?: string[];
  redirectHosts?: string[];
  ciRepository?: string;
}): string {
  return [
    r.insecure ? 'over plain http' : null,
    r.tokenRealms?.length ? `token realms ${r.tokenRealms.join(', ')}` : null,
    r.redirectHosts?.length ? `redirects to ${r.redirectHosts.join(', ')}` : null,
    r.ciRepository ? `CI repositories as ${r.ciRepository}` : null,
  ]
    .filter((x): x is string => x !== null)
    .map((x) => `, ${x}`)
    .join('');
}

/** One line a reviewer reads before approving: what the change does, in the API's own words. */
export function changeSummary(req: ChangeRequest): string {
  switch (req.kind) {
    case ChangeKind.TrustedIssuerAdd:
      return `trust issuer ${req.payload.issuer} for ${req.payload.kind} callers (audience ${req.payload.audience}${req.payload.groupsClaim ? `, groups from claim ${req.payload.groupsClaim}` : ''})`;
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
    case ChangeKind.EnvironmentSetUpstreams: {
      const { environment, upstreams, previous } = req.payload;
      // Emptying the chain widens what may enter: said in words, not only in the payload.
      const now = upstreams.length ? upstreams.join(', ') : 'none (any allowed source may enter directly)';
      return `set the upstreams of ${environment} to ${now}${previous ? ` (was ${previous.length ? previous.join(', ') : 'none'})` : ''}`;
    }
    case ChangeKind.EnvironmentCreate: {
      const e = req.payload;
      const sources = e.sources
        .map((s) => `${s.registry} (${s.repositories.join(', ')})${loosened(s)}${profile(s.credentials)}`)
        .join('; ');
      return `create environment ${e.name}: target ${e.target.registry}/${e.target.repository}${loosened(e.target)}${profile(e.target.credentials)}; sources ${sources}`;
    }
  }
}
