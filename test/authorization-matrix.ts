// Who may call what: every route the API serves, and for each kind of caller the HTTP status a
// valid request gets. test/e2e/authorization-matrix.e2e-spec.ts drives every cell against a running
// API and fails on any difference, and on any served route this table does not list.
//
// Callers (tokens from the development issuers, bindings from apps/devstack/stack.ts):
//   none       no Authorization header
//   noRole     a trusted person with no role binding (dave)
//   requester  a CI workload of acme/* (ci-app)
//   approver   release-managers (alice)
//   admin      platform-admins (erin)
//   auditor    auditors (grace)
// An allowed cell holds the success status of a valid request; refused cells hold 401 (no or bad
// token) or 403 (authenticated, but not allowed: the role is missing, or the approval rules say no).

export const CALLERS = ['none', 'noRole', 'requester', 'approver', 'admin', 'auditor'] as const;
export type Caller = (typeof CALLERS)[number];
export type Expectations = Readonly<Record<Caller, number>>;

export interface RouteAuthorization {
  method: 'GET' | 'POST' | 'DELETE';
  /** As Nest registers it (`:param`), e.g. `/v1/promotions/:id`. */
  path: string;
  /** Listed in /openapi.json; false for the few public routes the document leaves out. */
  inOpenApi: boolean;
  expect: Expectations;
}

export const AUTHORIZATION_MATRIX: readonly RouteAuthorization[] = [
  // Public: no token needed, and a token changes nothing.
  {
    method: 'GET',
    path: '/healthz',
    inOpenApi: true,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/readyz',
    inOpenApi: true,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/metrics',
    inOpenApi: false,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    inOpenApi: false,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/openapi.yaml',
    inOpenApi: false,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/docs',
    inOpenApi: false,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  // Airlock's public keys (keys helper): public like a JWKS, so verifiers need no token.
  {
    method: 'GET',
    path: '/v1/keys',
    inOpenApi: true,
    expect: { none: 200, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },

  // Promotions: CI requests; everyone with a role reads; the requester or an admin cancels.
  {
    method: 'POST',
    path: '/v1/promotions',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 201, approver: 403, admin: 403, auditor: 403 },
  },
  // A dry run costs the same authorization as a request.
  {
    method: 'POST',
    path: '/v1/promotions/evaluate',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 403, admin: 403, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/promotions',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/promotions/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/promotions/:id/cancel',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/promotions/:id/retry',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 403, admin: 200, auditor: 403 },
  },

  // Approvals: approvers decide (the service refuses everyone else: not_approver, self_approval);
  // break-glass needs its own role, which none of these callers holds; approvers and admins sign
  // off the follow-up review.
  {
    method: 'POST',
    path: '/v1/promotions/:id/approvals',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 201, admin: 403, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/approvals/pending',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 403, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/promotions/:id/break-glass',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 403, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/break-glass-reviews',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/break-glass-reviews/:id/sign-off',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 403 },
  },

  // Environments and policies: admins change them (an environment is proposed, 202, and a second
  // person approves it; policy activation by a second admin); everyone with a role reads.
  {
    method: 'POST',
    path: '/v1/environments',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  // Rollback: a requester of the environment (as for a promotion); the history of its tags: any role.
  {
    method: 'POST',
    path: '/v1/environments/:name/rollback',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 201, approver: 403, admin: 403, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/history',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  // The chain: an admin proposes an environment's upstreams (202; a second person approves).
  {
    method: 'POST',
    path: '/v1/environments/:name/upstreams',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/freeze-windows',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  // Where a digest stands across the environments.
  {
    method: 'GET',
    path: '/v1/artifacts/:digest',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/environments/:name/policies',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 201, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/policies',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/policies/:version',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/environments/:name/policies/:version/activate',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  // A (proposed) version judged on past promotions: the environment's admins and approvers.
  {
    method: 'POST',
    path: '/v1/environments/:name/policies/:version/evaluate',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/policies/:a/diff/:b',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },

  // Waivers: an environment's approvers and admins ask for, grant (not their own) and revoke them;
  // everyone with a role reads them.
  {
    method: 'POST',
    path: '/v1/environments/:name/waivers',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 201, admin: 201, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/waivers',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/waivers/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/environments/:name/waivers/:id/grant',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/environments/:name/waivers/:id/revoke',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 403 },
  },

  // Drift (the target registry against what Airlock promoted): the environment's admins and
  // approvers ask for a check (it reads the registry with the environment's credentials); they and
  // its auditors read the findings. CI callers do neither.
  {
    method: 'POST',
    path: '/v1/environments/:name/drift-checks',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 202, admin: 202, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/drift-checks/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/environments/:name/drift',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 200 },
  },

  // Continuous verification: what the environment's promoted digests carry now; read like drift.
  {
    method: 'GET',
    path: '/v1/environments/:name/verification',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 200, admin: 200, auditor: 200 },
  },

  // Identity: anyone with a valid token may ask who they are; admins propose changes to issuers,
  // bindings and identity links (one person's several identities: 202, applied once a second
  // person approves); auditors read them.
  {
    method: 'GET',
    path: '/v1/whoami',
    inOpenApi: true,
    expect: { none: 401, noRole: 200, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/trusted-issuers',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/trusted-issuers',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'DELETE',
    path: '/v1/trusted-issuers/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/role-bindings',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/role-bindings',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'DELETE',
    path: '/v1/role-bindings/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },

  {
    method: 'GET',
    path: '/v1/identity-links',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/identity-links',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
  {
    method: 'DELETE',
    path: '/v1/identity-links/:identity',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },

  // Changes to who is trusted (four eyes): admins and auditors read them; admins approve or reject
  // a change another person proposed (the matrix's admin, erin, decides changes frank proposed).
  {
    method: 'GET',
    path: '/v1/changes',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/changes/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/changes/:id/approve',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/changes/:id/reject',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },

  // Audit: auditors and admins read, verify, export and sign checkpoints.
  {
    method: 'GET',
    path: '/v1/audit',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/audit/export',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/audit/checkpoints',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/audit/checkpoints',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 201, auditor: 201 },
  },
  // Verifications: 201 when walked inline (the matrix's deployment walks every range inline).
  {
    method: 'POST',
    path: '/v1/audit/verifications',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 201, auditor: 201 },
  },
  {
    method: 'GET',
    path: '/v1/audit/verifications',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/audit/verifications/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },
  {
    method: 'POST',
    path: '/v1/audit/verifications/:id/cancel',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 200 },
  },

  // Advisories: global admins import; everyone with a role reads.
  {
    method: 'POST',
    path: '/v1/advisories/imports',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 201, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/advisories/imports',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/advisories/imports/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  {
    method: 'GET',
    path: '/v1/advisories/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 200, approver: 200, admin: 200, auditor: 200 },
  },
  // Webhooks: global admins only (a subscription sends events out of Airlock; its secret is shown
  // to the admin who made or rotated it). Auditors see the changes in the audit trail.
  {
    method: 'POST',
    path: '/v1/webhooks',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 201, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/webhooks',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/webhooks/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'DELETE',
    path: '/v1/webhooks/:id',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 204, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/:id/disable',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/:id/enable',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/:id/rotate-secret',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'GET',
    path: '/v1/webhooks/:id/deliveries',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 200, auditor: 403 },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/:id/deliveries/:deliveryId/resend',
    inOpenApi: true,
    expect: { none: 401, noRole: 403, requester: 403, approver: 403, admin: 202, auditor: 403 },
  },
];

/** `GET /v1/promotions/:id`: how routes are named in the matrix, the tests and their messages. */
export const routeKey = (r: Pick<RouteAuthorization, 'method' | 'path'>): string => `${r.method} ${r.path}`;

// Scoped callers: the table above uses callers whose roles hold in every environment. These hold
// theirs only in another environment (a staging one), or carry another repository's CI claims; on
// routes whose service checks the environment or the repository they must be refused (403). Each
// case runs the table's fixture for its route, against the matrix's environment.
//   scopedApprover  an approver of staging only (ivan)
//   scopedAdmin     an admin of staging only (judy)
//   otherRepo       a CI workload of acme/other (ci-other), a requester everywhere for acme/*
export const SCOPED_CALLERS = ['scopedApprover', 'scopedAdmin', 'otherRepo'] as const;
export type ScopedCaller = (typeof SCOPED_CALLERS)[number];

export interface ScopedAuthorization extends Pick<RouteAuthorization, 'method' | 'path'> {
  caller: ScopedCaller;
  expect: number;
}

export const SCOPED_AUTHORIZATION: readonly ScopedAuthorization[] = [
  { method: 'POST', path: '/v1/break-glass-reviews/:id/sign-off', caller: 'scopedApprover', expect: 403 },
  { method: 'POST', path: '/v1/break-glass-reviews/:id/sign-off', caller: 'scopedAdmin', expect: 403 },
  { method: 'POST', path: '/v1/promotions/:id/approvals', caller: 'scopedApprover', expect: 403 },
  { method: 'POST', path: '/v1/promotions/:id/cancel', caller: 'scopedAdmin', expect: 403 },
  { method: 'POST', path: '/v1/promotions/:id/retry', caller: 'scopedAdmin', expect: 403 },
  { method: 'POST', path: '/v1/promotions', caller: 'otherRepo', expect: 403 },
  // A subscription may cover every environment: an admin of one environment manages none.
  { method: 'POST', path: '/v1/webhooks', caller: 'scopedAdmin', expect: 403 },
  { method: 'GET', path: '/v1/webhooks/:id/deliveries', caller: 'scopedAdmin', expect: 403 },
  { method: 'POST', path: '/v1/webhooks/:id/rotate-secret', caller: 'scopedAdmin', expect: 403 },
  // Another environment's approver or admin, and a CI job of another repository: no drift.
  { method: 'POST', path: '/v1/environments/:name/drift-checks', caller: 'scopedApprover', expect: 403 },
  { method: 'POST', path: '/v1/environments/:name/drift-checks', caller: 'scopedAdmin', expect: 403 },
  { method: 'POST', path: '/v1/environments/:name/drift-checks', caller: 'otherRepo', expect: 403 },
  { method: 'GET', path: '/v1/environments/:name/drift', caller: 'scopedApprover', expect: 403 },
  { method: 'GET', path: '/v1/environments/:name/drift-checks/:id', caller: 'scopedAdmin', expect: 403 },
  { method: 'GET', path: '/v1/environments/:name/verification', caller: 'scopedApprover', expect: 403 },
  { method: 'GET', path: '/v1/environments/:name/verification', caller: 'otherRepo', expect: 403 },
];
