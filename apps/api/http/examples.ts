// Realistic examples for the OpenAPI document (shown by docs and generated clients).
const DIGEST = `sha256:${'3f'.repeat(32)}`;

export const PROMOTION_EXAMPLE = {
  id: '0b9d6f3e-8a51-4c1e-9f7a-2d4c5b6a7e81',
  status: 'awaiting_approval',
  kind: 'promotion',
  artifact: `registry.staging.example.com/acme/app@${DIGEST}`,
  sourceRegistry: 'registry.staging.example.com',
  sourceRepository: 'acme/app',
  digest: DIGEST,
  tag: 'v1.4.2',
  environment: 'production',
  target: `registry.prod.example.com/prod/acme/app@${DIGEST}`,
  policyVersion: 3,
  policySha256: 'c'.repeat(64),
  requester: 'repo:acme/app:ref:refs/heads/main@https://token.actions.githubusercontent.com',
  claims: { repository: 'acme/app', ref: 'refs/heads/main', sha: 'a1b2c3d' },
  metadata: { ticket: 'OPS-7' },
  reasons: [],
  createdAt: '2026-12-07T09:14:03.120Z',
  updatedAt: '2026-12-07T09:14:04.880Z',
};

export const PROMOTION_DETAIL_EXAMPLE = {
  ...PROMOTION_EXAMPLE,
  status: 'promoted',
  attestation: {
    reference: `registry.prod.example.com/prod/acme/app:sha256-${'3f'.repeat(32)}.att`,
    digest: `sha256:${'9e'.repeat(32)}`,
    predicateTypes: ['https://airlock.dev/promotion/v1'],
    keyId: 'SHA256:q1Vn2lqk7Zb0O2o8i0m6cS3J2nqQm8p9bQvZ0a6cJtE',
  },
  checks: [
    {
      kind: 'signatures',
      status: 'pass',
      summary: 'signed by release',
      findings: [],
      waivers: [],
      attempts: 1,
      finishedAt: '2026-12-07T09:14:04.700Z',
    },
  ],
  approvals: [
    {
      decision: 'approve',
      approver: 'alice@https://login.example.com',
      comment: 'release notes checked',
      digest: DIGEST,
      policySha256: 'c'.repeat(64),
      at: '2026-12-07T09:20:11.000Z',
    },
  ],
  history: [
    {
      from: 'approved',
      to: 'promoting',
      actor: 'airlock',
      reason: 'copy started',
      at: '2026-12-07T09:20:11.300Z',
    },
    {
      from: 'promoting',
      to: 'promoted',
      actor: 'airlock',
      reason: 'copied and attested',
      at: '2026-12-07T09:20:12.010Z',
    },
  ],
};
