import { ChangeKind } from '../../domain';
import { CallerKind } from '../identity/trusted-issuer.entity';
import { Role } from '../identity/role-binding.entity';
import { changeSummary } from './change-request';

describe(changeSummary.name, () => {
  it.each([
    [
      {
        kind: ChangeKind.TrustedIssuerAdd,
        payload: { issuer: 'https://ci.example.com', kind: CallerKind.Ci, audience: 'airlock' },
      },
      'trust issuer https://ci.example.com for ci callers (audience airlock)',
    ],
    [
      {
        kind: ChangeKind.RoleBindingAdd,
        payload: { role: Role.Admin, issuer: 'https://p', group: 'platform-admins' },
      },
      'grant admin in every environment to group platform-admins of https://p',
    ],
    [
      {
        kind: ChangeKind.RoleBindingAdd,
        payload: {
          role: Role.Requester,
          issuer: 'https://ci',
          environment: 'production',
          repositoryPattern: 'acme/*',
        },
      },
      'grant requester in production to repositories acme/* of https://ci',
    ],
    [
      { kind: ChangeKind.IdentityLinkAdd, payload: { identity: 'handle:carol', person: 'carol' } },
      'link identity handle:carol to person carol',
    ],
    [{ kind: ChangeKind.RoleBindingRemove, payload: { id: 'b1' } }, 'revoke role binding b1'],
  ] as const)('%#: %s', (req, summary) => {
    expect(changeSummary(req)).toBe(summary);
  });

  it('names what a removal removes, from its snapshot', () => {
    const removes = {
      id: 'b1',
      role: Role.Auditor,
      environment: null,
      issuer: 'https://p',
      subject: 'dave',
      group: null,
      repositoryPattern: null,
      artifactRepositoryPattern: null,
      createdBy: 'erin@https://p',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect(changeSummary({ kind: ChangeKind.RoleBindingRemove, payload: { id: 'b1', removes } })).toBe(
      'revoke auditor in every environment to subject dave of https://p (binding b1)',
    );
  });

  it('says in the summary what widens trust, not only in the payload', () => {
    expect(
      changeSummary({
        kind: ChangeKind.RoleBindingAdd,
        payload: {
          role: Role.Requester,
          issuer: 'https://ci',
          repositoryPattern: 'acme/release',
          artifactRepositoryPattern: 'acme/*',
        },
      }),
    ).toBe(
      'grant requester in every environment to repositories acme/release of https://ci, allowed to request artifacts of acme/*',
    );
    const summary = changeSummary({
      kind: ChangeKind.EnvironmentCreate,
      payload: {
        name: 'loose',
        sources: [
          {
            registry: 'registry.staging.example.com',
            repositories: ['mirror/**'],
            insecure: true,
            tokenRealms: ['https://auth.example.com/token'],
            redirectHosts: ['cdn.example.com'],
            ciRepository: 'mirror/{repository}',
          },
        ],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
      },
    });
    for (const part of [
      'over plain http',
      'token realms https://auth.example.com/token',
      'redirects to cdn.example.com',
      'CI repositories as mirror/{repository}',
    ]) {
      expect(summary).toContain(part);
    }
  });

  it('describes an environment without its credentials’ secret', () => {
    const credentials = {
      issuer: 'https://login.example.com',
      clientId: 'airlock-promoter',
      clientSecretName: 'promoter',
      services: ['registry.prod.example.com'],
    };
    const summary = changeSummary({
      kind: ChangeKind.EnvironmentCreate,
      payload: {
        name: 'production',
        sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}', credentials },
      },
    });
    expect(summary).toBe(
      'create environment production: target registry.prod.example.com/prod/{repository} with credentials of client airlock-promoter at https://login.example.com for registry.prod.example.com; sources registry.staging.example.com (acme/*)',
    );
    expect(summary).not.toContain('promoter,');
  });
});
