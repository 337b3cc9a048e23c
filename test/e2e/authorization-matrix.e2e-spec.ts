// Drives every cell of test/authorization-matrix.ts against a running API: each route, called with
// a valid request by every kind of caller, must answer exactly the status the table says. Routes
// the server serves but the table does not list fail the run, so a new route cannot ship without
// someone deciding who may call it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUTHORIZATION_MATRIX,
  type Caller,
  CALLERS,
  type RouteAuthorization,
  routeKey,
  SCOPED_AUTHORIZATION,
} from '../authorization-matrix';
import { artifact, Rig } from '../support/rig';

/** One request: where it goes, what it carries; built fresh for every cell that may change state. */
interface Call {
  path: string;
  body?: unknown;
  /** Overrides the caller's usual token (a CI token that has not requested a promotion yet). */
  token?: string;
  /** Sees the answer (to clean up what it created). */
  after?: (res: { status: number; body: any }) => void;
}
type Fixture = (caller: Caller) => Promise<Call>;

const hex = (): string => randomBytes(4).toString('hex');
/** A 403 says why: a missing role, or an approval rule (the approvals route has no role of its own). */
const FORBIDDEN_CODES = ['forbidden', 'not_approver', 'self_approval', 'commit_author'];

describe('authorization matrix', () => {
  let rig: Rig;
  const env = `authz-${hex()}`;
  let promotionId = '';
  /** Trusted issuers and role bindings made as fixtures; whatever survives the test is removed. */
  const madeIssuers: string[] = [];
  const madeBindings: string[] = [];
  const madeLinks: string[] = [];
  const madeWebhooks: string[] = [];

  beforeAll(async () => {
    // Verifications answer inline (201) whatever the length of the shared run's chain.
    rig = await Rig.start({ AUDIT_VERIFY_INLINE_MAX_EVENTS: '1000000000' });
    // One approval required: promotions wait in awaiting_approval, where they may be cancelled.
    await rig.environment(env, { approvals: { required: 1 }, waivers: { maxDays: 30 } });
    promotionId = (await newPromotion()).id;
    // Someone outside the six callers may break the glass, so that there are reviews to sign off.
    const bg = await rig.trustChange('POST', '/v1/role-bindings', {
      role: 'break_glass',
      issuer: rig.issuers.people,
      subject: 'bob',
    });
    madeBindings.push(bg.id);
  });

  afterAll(async () => {
    if (rig) {
      const clean = (path: string): Promise<unknown> =>
        rig.trustChange('DELETE', path).catch(() => undefined);
      for (const id of madeIssuers) await clean(`/v1/trusted-issuers/${id}`);
      for (const id of madeBindings) await clean(`/v1/role-bindings/${id}`);
      for (const identity of madeLinks) await clean(`/v1/identity-links/${encodeURIComponent(identity)}`);
      for (const id of madeWebhooks) await rig.call('DELETE', `/v1/webhooks/${id}`, { as: 'admin' });
    }
    await rig?.stop();
  });

  /** A promotion awaiting approval: cancellable, decidable, breakable. */
  async function newPromotion(): Promise<{ id: string; digest: string }> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', `authz-${hex()}`), environment: env },
    });
    if (res.status !== 201) throw new Error(`promotion: ${res.status} ${JSON.stringify(res.body)}`);
    await rig.waitForStatus(res.body.id, ['awaiting_approval']);
    return { id: res.body.id, digest: res.body.digest };
  }

  /**
   * A tag Airlock wrote twice in the environment (two promotions marked promoted in the database:
   * this rig has no registries), so that `previous` has somewhere to go back to.
   */
  async function newTagHistory(): Promise<{ repository: string; tag: string }> {
    const tag = `stable-${hex()}`;
    let repository = '';
    for (let i = 0; i < 2; i++) {
      const { id } = await newPromotion();
      const rows = await rig.sql(
        `UPDATE promotion SET status = 'promoted', tag = $2 WHERE id = $1 RETURNING target_repository`,
        [id, tag],
      );
      await rig.sql(
        `INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         VALUES ($1, 'promoting', 'promoted', '{"kind":"system","issuer":"airlock","subject":"test"}', 'fixture')`,
        [id],
      );
      repository = rows[0].target_repository as string;
    }
    return { repository, tag };
  }

  /** An open break-glass review (bob broke the glass; anyone else may sign it off). */
  async function newReview(): Promise<string> {
    const { id } = await newPromotion();
    const res = await rig.call('POST', `/v1/promotions/${id}/break-glass`, {
      as: 'approver2',
      body: { reason: 'authorization matrix: a review to sign off' },
    });
    if (res.status !== 201) throw new Error(`break-glass: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  async function newLink(): Promise<string> {
    const identity = `handle:authz-${hex()}`;
    await rig.trustChange('POST', '/v1/identity-links', { identity, person: `person-${hex()}` });
    madeLinks.push(identity);
    return identity;
  }

  async function newIssuer(): Promise<string> {
    const made = await rig.trustChange('POST', '/v1/trusted-issuers', {
      issuer: `https://issuer-${hex()}.example.com`,
      kind: 'human',
      audience: 'airlock',
    });
    madeIssuers.push(made.id);
    return made.id as string;
  }

  async function newBinding(): Promise<string> {
    const made = await rig.trustChange('POST', '/v1/role-bindings', bindingBody());
    madeBindings.push(made.id);
    return made.id as string;
  }

  /** A change proposed by the second admin (a link of a handle nobody uses), for `admin` to decide. */
  async function newChange(): Promise<string> {
    const identity = `handle:authz-${hex()}`;
    const res = await rig.call('POST', '/v1/identity-links', {
      as: 'admin2',
      body: { identity, person: `person-${hex()}` },
    });
    if (res.status !== 202) throw new Error(`change: ${res.status} ${JSON.stringify(res.body)}`);
    madeLinks.push(identity);
    return res.body.id as string;
  }

  /** A binding nobody can use: its issuer is not trusted. */
  const bindingBody = (): unknown => ({
    role: 'auditor',
    issuer: `https://nowhere-${hex()}.example.com`,
    subject: 'nobody',
  });

  /** A policy version added by the second admin, so that `admin` may activate it (four eyes). */
  async function newPolicyVersion(): Promise<number> {
    const res = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin2',
      body: { document: { approvals: { required: 1 }, waivers: { maxDays: 30 } } },
    });
    if (res.status !== 201) throw new Error(`policy: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.version as number;
  }

  const waiverBody = () => ({
    check: 'vulnerabilities',
    repositoryPattern: 'acme/app',
    reason: 'authorization matrix',
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  });

  /** A waiver requested by the second admin, so that any of the six callers could grant it. */
  async function newWaiver(): Promise<string> {
    const res = await rig.call('POST', `/v1/environments/${env}/waivers`, {
      as: 'admin2',
      body: waiverBody(),
    });
    if (res.status !== 201) throw new Error(`waiver: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  const read =
    (path: () => string): Fixture =>
    async () => ({ path: path() });

  /** A valid request for every route of the table (keyed like routeKey()). */
  const FIXTURES: Record<string, Fixture> = {
    'GET /healthz': read(() => '/healthz'),
    'GET /readyz': read(() => '/readyz'),
    'GET /metrics': read(() => '/metrics'),
    'GET /openapi.json': read(() => '/openapi.json'),
    'GET /openapi.yaml': read(() => '/openapi.yaml'),
    'GET /docs': read(() => '/docs'),
    'GET /v1/keys': read(() => '/v1/keys'),

    'POST /v1/promotions': async (caller) => ({
      path: '/v1/promotions',
      body: { artifact: artifact('acme/app', `authz-${hex()}`), environment: env },
      // Each CI token may request one promotion: a fresh one for every attempt.
      token: caller === 'requester' ? await rig.token('requester', { fresh: true }) : undefined,
    }),
    'POST /v1/promotions/evaluate': async () => ({
      path: '/v1/promotions/evaluate',
      body: { artifact: artifact('acme/app', `authz-${hex()}`), environment: env },
    }),
    'GET /v1/promotions': read(() => `/v1/promotions?environment=${env}`),
    'GET /v1/promotions/:id': read(() => `/v1/promotions/${promotionId}`),
    'POST /v1/promotions/:id/cancel': async () => ({
      path: `/v1/promotions/${(await newPromotion()).id}/cancel`,
      body: { reason: 'authorization matrix' },
    }),

    // A failed promotion, made so directly in the database: the matrix is about who may retry.
    'POST /v1/promotions/:id/retry': async () => {
      const { id } = await newPromotion();
      await rig.sql(
        `WITH moved AS (UPDATE promotion SET status = 'failed' WHERE id = $1 RETURNING id)
         INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         SELECT id, 'checking', 'failed', '{"kind":"system","issuer":"airlock","subject":"test"}', 'fixture' FROM moved`,
        [id],
      );
      return { path: `/v1/promotions/${id}/retry` };
    },
    'POST /v1/promotions/:id/approvals': async () => {
      const { id, digest } = await newPromotion();
      return { path: `/v1/promotions/${id}/approvals`, body: { decision: 'approve', digest } };
    },
    'GET /v1/approvals/pending': read(() => '/v1/approvals/pending'),
    'POST /v1/promotions/:id/break-glass': async () => ({
      path: `/v1/promotions/${(await newPromotion()).id}/break-glass`,
      body: { reason: 'authorization matrix: production is down' },
    }),
    'GET /v1/break-glass-reviews': read(() => '/v1/break-glass-reviews'),
    'POST /v1/break-glass-reviews/:id/sign-off': async () => ({
      path: `/v1/break-glass-reviews/${await newReview()}/sign-off`,
      body: { comment: 'looked at it afterwards' },
    }),

    'POST /v1/environments': async () => ({
      path: '/v1/environments',
      body: {
        name: `authz-${hex()}`,
        sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
      },
    }),
    'GET /v1/environments': read(() => '/v1/environments'),
    'GET /v1/environments/:name': read(() => `/v1/environments/${env}`),
    'POST /v1/environments/:name/rollback': async (caller) => ({
      path: `/v1/environments/${env}/rollback`,
      body: { ...(await newTagHistory()), to: 'previous' },
      // Like a request, a rollback uses up the CI token that asked for it.
      token: caller === 'requester' ? await rig.token('requester', { fresh: true }) : undefined,
    }),
    'GET /v1/environments/:name/history': read(() => `/v1/environments/${env}/history`),
    // An empty chain for the matrix's own environment: proposing changes nothing until approved.
    'POST /v1/environments/:name/upstreams': async () => ({
      path: `/v1/environments/${env}/upstreams`,
      body: { upstreams: [] },
    }),
    'GET /v1/environments/:name/freeze-windows': read(() => `/v1/environments/${env}/freeze-windows`),
    'GET /v1/artifacts/:digest': read(() => `/v1/artifacts/sha256:${'0'.repeat(64)}`),
    'POST /v1/environments/:name/policies': async () => ({
      path: `/v1/environments/${env}/policies`,
      body: { document: { approvals: { required: 1 } }, comment: 'authorization matrix' },
    }),
    'GET /v1/environments/:name/policies': read(() => `/v1/environments/${env}/policies`),
    'GET /v1/environments/:name/policies/:version': read(() => `/v1/environments/${env}/policies/1`),
    'POST /v1/environments/:name/policies/:version/activate': async () => ({
      path: `/v1/environments/${env}/policies/${await newPolicyVersion()}/activate`,
    }),

    'POST /v1/environments/:name/policies/:version/evaluate': async () => ({
      path: `/v1/environments/${env}/policies/1/evaluate`,
      body: { lastN: 5 },
    }),
    'GET /v1/environments/:name/policies/:a/diff/:b': read(() => `/v1/environments/${env}/policies/1/diff/1`),

    'POST /v1/environments/:name/waivers': async () => ({
      path: `/v1/environments/${env}/waivers`,
      body: waiverBody(),
    }),
    'GET /v1/environments/:name/waivers': read(() => `/v1/environments/${env}/waivers`),
    'GET /v1/environments/:name/waivers/:id': async () => ({
      path: `/v1/environments/${env}/waivers/${await newWaiver()}`,
    }),
    'POST /v1/environments/:name/waivers/:id/grant': async () => ({
      path: `/v1/environments/${env}/waivers/${await newWaiver()}/grant`,
    }),
    'POST /v1/environments/:name/waivers/:id/revoke': async () => ({
      path: `/v1/environments/${env}/waivers/${await newWaiver()}/revoke`,
      body: { reason: 'authorization matrix' },
    }),
    // A check queued in an environment is returned (200) to the next asker: approver and admin
    // each ask in an environment of their own, so both see a check queued (202).
    'POST /v1/environments/:name/drift-checks': async (caller) => ({
      path: `/v1/environments/${caller === 'approver' || caller === 'admin' ? await newEnvironment() : env}/drift-checks`,
    }),
    'GET /v1/environments/:name/drift-checks/:id': async () => ({
      path: `/v1/environments/${env}/drift-checks/${await driftCheck()}`,
    }),
    'GET /v1/environments/:name/drift': read(() => `/v1/environments/${env}/drift`),
    'GET /v1/environments/:name/verification': read(() => `/v1/environments/${env}/verification`),

    'GET /v1/whoami': read(() => '/v1/whoami'),
    'GET /v1/trusted-issuers': read(() => '/v1/trusted-issuers'),
    'POST /v1/trusted-issuers': async () => ({
      path: '/v1/trusted-issuers',
      body: { issuer: `https://issuer-${hex()}.example.com`, kind: 'human', audience: 'airlock' },
    }),
    'DELETE /v1/trusted-issuers/:id': async () => ({ path: `/v1/trusted-issuers/${await newIssuer()}` }),
    'GET /v1/role-bindings': read(() => '/v1/role-bindings'),
    'POST /v1/role-bindings': async () => ({
      path: '/v1/role-bindings',
      body: bindingBody(),
    }),
    'DELETE /v1/role-bindings/:id': async () => ({ path: `/v1/role-bindings/${await newBinding()}` }),
    'GET /v1/identity-links': read(() => '/v1/identity-links'),
    'POST /v1/identity-links': async () => {
      const identity = `handle:authz-${hex()}`;
      return {
        path: '/v1/identity-links',
        body: { identity, person: `person-${hex()}` },
      };
    },
    'DELETE /v1/identity-links/:identity': async () => ({
      path: `/v1/identity-links/${encodeURIComponent(await newLink())}`,
    }),

    // Changes to who is trusted: proposed by the second admin, so that `admin` may decide them.
    'GET /v1/changes': read(() => '/v1/changes?status=proposed&limit=5'),
    'GET /v1/changes/:id': async () => ({ path: `/v1/changes/${await newChange()}` }),
    'POST /v1/changes/:id/approve': async () => ({ path: `/v1/changes/${await newChange()}/approve` }),
    'POST /v1/changes/:id/reject': async () => ({
      path: `/v1/changes/${await newChange()}/reject`,
      body: { comment: 'authorization matrix: not this one' },
    }),

    'GET /v1/audit': read(() => '/v1/audit?limit=5'),
    'GET /v1/audit/verify': read(() => '/v1/audit/verify'),
    'GET /v1/audit/export': read(() => '/v1/audit/export'),
    'GET /v1/audit/checkpoints': read(() => '/v1/audit/checkpoints'),
    'POST /v1/audit/checkpoints': read(() => '/v1/audit/checkpoints'),
    'POST /v1/audit/verifications': async () => ({ path: '/v1/audit/verifications', body: {} }),
    'GET /v1/audit/verifications': read(() => '/v1/audit/verifications'),
    'GET /v1/audit/verifications/:id': async () => ({
      path: `/v1/audit/verifications/${await newVerification()}`,
    }),
    'POST /v1/audit/verifications/:id/cancel': async () => ({
      path: `/v1/audit/verifications/${await newVerification()}/cancel`,
    }),

    'POST /v1/advisories/imports': async () => ({ path: '/v1/advisories/imports', body: osvAdvisory() }),
    'GET /v1/advisories/imports': read(() => '/v1/advisories/imports'),
    'GET /v1/advisories/imports/:id': async () => ({
      path: `/v1/advisories/imports/${(await newImport()).id}`,
    }),
    'GET /v1/advisories/:id': async () => ({ path: `/v1/advisories/${(await newImport()).advisory}` }),

    'POST /v1/webhooks': async () => ({
      path: '/v1/webhooks',
      body: webhookBody(),
      after: (res) => void (res.status === 201 && madeWebhooks.push(res.body.id)),
    }),
    'GET /v1/webhooks': read(() => '/v1/webhooks'),
    'GET /v1/webhooks/:id': async () => ({ path: `/v1/webhooks/${await newWebhook()}` }),
    'DELETE /v1/webhooks/:id': async () => ({ path: `/v1/webhooks/${await newWebhook()}` }),
    'POST /v1/webhooks/:id/disable': async () => ({
      path: `/v1/webhooks/${await newWebhook()}/disable`,
      body: { reason: 'authorization matrix' },
    }),
    'POST /v1/webhooks/:id/enable': async () => ({ path: `/v1/webhooks/${await newWebhook()}/enable` }),
    'POST /v1/webhooks/:id/rotate-secret': async () => ({
      path: `/v1/webhooks/${await newWebhook()}/rotate-secret`,
      body: { graceSeconds: 60 },
    }),
    'GET /v1/webhooks/:id/deliveries': async () => ({
      path: `/v1/webhooks/${await newWebhook()}/deliveries`,
    }),
    'POST /v1/webhooks/:id/deliveries/:deliveryId/resend': async () => {
      const { id, delivery } = await newDelivery();
      return { path: `/v1/webhooks/${id}/deliveries/${delivery}/resend` };
    },
  };

  /** A subscription to this matrix's environment only (nothing listens there: no worker consumes webhooks). */
  const webhookBody = (eventTypes = ['promotion.promoted']): Record<string, unknown> => ({
    url: 'http://127.0.0.1:9/authz-hook',
    eventTypes,
    environments: [env],
  });

  async function newWebhook(eventTypes?: string[]): Promise<string> {
    const res = await rig.call('POST', '/v1/webhooks', { as: 'admin', body: webhookBody(eventTypes) });
    if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
    madeWebhooks.push(res.body.id);
    return res.body.id as string;
  }

  /** A subscription with one delivery: a policy version proposed while it listens. */
  async function newDelivery(): Promise<{ id: string; delivery: string }> {
    const id = await newWebhook(['policy.proposed']);
    await newPolicyVersion();
    const rows = await rig.sql('SELECT id FROM webhook_delivery WHERE subscription_id = $1', [id]);
    if (rows.length !== 1) throw new Error(`deliveries of ${id}: ${JSON.stringify(rows)}`);
    return { id, delivery: rows[0].id as string };
  }

  async function newEnvironment(): Promise<string> {
    const name = `authz-${hex()}`;
    await rig.environment(name, { approvals: { required: 1 } });
    return name;
  }

  /** The drift check of the shared environment (queued once; later asks return the same one). */
  let queuedCheck: string | undefined;
  async function driftCheck(): Promise<string> {
    if (queuedCheck) return queuedCheck;
    const res = await rig.call('POST', `/v1/environments/${env}/drift-checks`, { as: 'admin2' });
    if (res.status !== 202 && res.status !== 200)
      throw new Error(`drift check: ${res.status} ${JSON.stringify(res.body)}`);
    queuedCheck = res.body.id as string;
    return queuedCheck;
  }

  /** A finished verification (walked inline), for the routes that read or cancel one. */
  async function newVerification(): Promise<string> {
    const res = await rig.call('POST', '/v1/audit/verifications', { as: 'auditor', body: {} });
    expect(res.status).toBe(201);
    return (res.body as { id: string }).id;
  }

  /** A fresh OSV advisory: new bytes, so each import is a new one. */
  function osvAdvisory(): Record<string, unknown> {
    return {
      id: `AUTHZ-${hex()}`,
      modified: new Date().toISOString(),
      affected: [{ package: { ecosystem: 'npm', name: `authz-${hex()}` }, versions: ['1.0.0'] }],
    };
  }

  async function newImport(): Promise<{ id: string; advisory: string }> {
    const doc = osvAdvisory();
    const res = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: doc });
    if (res.status !== 201) throw new Error(`advisory import: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, advisory: doc.id as string };
  }

  /** Every route the server maps: the OpenAPI document plus Nest's route log (hidden routes too). */
  async function servedRoutes(): Promise<{ openApi: Set<string>; nest: Set<string> }> {
    const doc = await rig.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const openApi = new Set<string>();
    for (const [path, operations] of Object.entries(doc.body.paths as Record<string, object>)) {
      for (const method of Object.keys(operations)) {
        if (['parameters', 'summary', 'description', 'servers'].includes(method)) continue;
        openApi.add(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
      }
    }
    const log = readFileSync(
      join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'),
      'utf8',
    );
    const nest = new Set<string>();
    for (const m of log.matchAll(/Mapped \{([^,}]+), ([A-Z]+)\} route/g)) nest.add(`${m[2]} ${m[1]}`);
    return { openApi, nest };
  }

  it('lists every route the server serves, and only those', async () => {
    const { openApi, nest } = await servedRoutes();
    expect(nest.size).toBeGreaterThan(0); // the route log is there to compare with
    const listed = new Map(AUTHORIZATION_MATRIX.map((r) => [routeKey(r), r]));
    expect(listed.size).toBe(AUTHORIZATION_MATRIX.length); // no route listed twice

    const unlisted = [...new Set([...openApi, ...nest])].filter((k) => !listed.has(k)).sort();
    expect(unlisted).toEqual([]);
    // The table says which routes the document shows: a route documented or hidden by mistake fails.
    const documented = AUTHORIZATION_MATRIX.filter((r) => r.inOpenApi)
      .map(routeKey)
      .sort();
    expect([...openApi].sort()).toEqual(documented);
    // And every listed route has a request to drive it with.
    expect(AUTHORIZATION_MATRIX.map(routeKey).filter((k) => !FIXTURES[k])).toEqual([]);
  });

  it('has one fixture per listed route (no stale fixtures)', () => {
    const listed = new Set(AUTHORIZATION_MATRIX.map(routeKey));
    expect(Object.keys(FIXTURES).filter((k) => !listed.has(k))).toEqual([]);
  });

  describe.each(AUTHORIZATION_MATRIX.map((r) => [routeKey(r), r] as const))('%s', (key, route) => {
    it('answers every caller as the table says', async () => {
      const mismatches: string[] = [];
      for (const caller of CALLERS) {
        const problem = await drive(route, caller);
        if (problem) mismatches.push(`${key} as ${caller}: ${problem}`);
      }
      expect(mismatches).toEqual([]);
    });
  });

  // Callers whose roles hold in a staging environment only, or whose CI claims name another
  // repository (test/authorization-matrix.ts, SCOPED_AUTHORIZATION).
  describe('scoped callers', () => {
    beforeAll(async () => {
      for (const [role, subject] of [
        ['approver', 'ivan'],
        ['admin', 'judy'],
      ]) {
        // A trust change: proposed by one admin, applied by another.
        const made = await rig.trustChange('POST', '/v1/role-bindings', {
          role,
          issuer: rig.issuers.people,
          subject,
          environment: `staging-${env}`,
        });
        madeBindings.push(made.id);
      }
    });

    it.each(SCOPED_AUTHORIZATION.map((c) => [`${routeKey(c)} as ${c.caller}`, c] as const))(
      '%s',
      async (_, c) => {
        const call = await FIXTURES[routeKey(c)]('noRole');
        // A CI token requests one promotion: a fresh one each time.
        const token = await rig.token(c.caller, { fresh: c.caller === 'otherRepo' });
        const res = await rig.call(c.method, call.path, { token, body: call.body });
        call.after?.(res);
        expect({ status: res.status, code: res.body?.code }).toEqual({
          status: c.expect,
          code: expect.stringMatching(/^(forbidden|not_approver|repository_not_allowed)$/),
        });
      },
    );
  });

  /** Calls one cell; returns what was wrong with the answer, or undefined. */
  async function drive(route: RouteAuthorization, caller: Caller): Promise<string | undefined> {
    const want = route.expect[caller];
    const call = await FIXTURES[routeKey(route)](caller);
    const token = caller === 'none' ? undefined : (call.token ?? (await rig.token(caller)));
    const res = await rig.call(route.method, call.path, { token, body: call.body });
    call.after?.(res);
    if (res.status !== want) {
      return `expected ${want}, got ${res.status} ${typeof res.body === 'string' ? res.body.slice(0, 200) : JSON.stringify(res.body)}`;
    }
    if (want >= 400) {
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('application/problem+json')) return `refusal is ${type}, not problem+json`;
      const codes = want === 401 ? ['unauthenticated'] : FORBIDDEN_CODES;
      if (res.body?.status !== want || !codes.includes(res.body?.code))
        return `refusal body ${JSON.stringify(res.body)} is not a ${codes.join('/')} problem`;
      if (want === 401 && res.headers.get('www-authenticate') !== 'Bearer')
        return 'a 401 without WWW-Authenticate: Bearer';
    }
    return undefined;
  }
});
