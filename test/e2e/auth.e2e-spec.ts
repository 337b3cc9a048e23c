// Authentication: which bearer tokens the API accepts, what a refused one changes (nothing), who a
// request is recorded as (the token's subject, never a body field), and how trusted issuers and
// role bindings managed over the admin API take effect on tokens at once.
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { getToken, type OidcProviderHandle, startOidcProvider } from '../support/oidc';
import { type ApiResponse, artifact, Rig } from '../support/rig';

const hex = (): string => randomBytes(4).toString('hex');
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);
type Grant = { role: string; environment: string | null };

describe('authentication', () => {
  let rig: Rig;
  const env = `auth-${hex()}`;
  /** The CI issuer's own signing key (its JWKS file), to mint tokens that are bad in one way only. */
  let ciKey: { jwk: JWK & { kid: string }; publicPem: string };
  /** The claims of a real CI token, the template for minted ones. */
  let ciClaims: JWTPayload;

  beforeAll(async () => {
    rig = await Rig.start();
    await rig.environment(env);
    const file = join(process.env.AIRLOCK_TEST_DATA_DIR as string, 'issuers', 'dev-ci-oidc-jwks.json');
    const jwk = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<JWK & { kid: string }> }).keys[0];
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    ciKey = {
      jwk,
      publicPem: createPublicKey({ key: publicJwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      }) as string,
    };
    ciClaims = decodeJwt(await rig.token('requester', { fresh: true }));
  });

  afterAll(async () => {
    await rig?.stop();
  });

  /** A CI token signed with the issuer's real key: valid unless the overrides make it otherwise. */
  async function mint(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    omit: string[] = [],
  ): Promise<string> {
    const payload: Record<string, unknown> = {
      ...ciClaims,
      iat: now() - 5,
      exp: now() + 240,
      jti: `minted-${randomUUID()}`,
      ...claims,
    };
    for (const k of omit) delete payload[k];
    const key = await importJWK(ciKey.jwk, 'ES256');
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: ciKey.jwk.kid, typ: 'at+jwt', ...header })
      .sign(key);
  }

  /**
   * The grants these checks are about: global ones and those for this file's environment. Other
   * files of the run share the database and may bind the same people in environments of their own.
   */
  const relevant = (roles: Grant[]): Grant[] =>
    roles.filter((g) => g.environment === null || g.environment === env);

  const promotionBody = (seed = hex()): unknown => ({
    artifact: artifact('acme/app', `auth-${seed}`),
    environment: env,
  });

  /**
   * What a refused request must not change: the promotions and the promotions' audit trail. Taken
   * once the worker is done with the promotions made so far (they stop at approved).
   */
  async function promotionState(): Promise<{ promotions: number; promotionEvents: number }> {
    for (let i = 0; ; i++) {
      const [busy] = await rig.sql<{ n: string }>(
        `SELECT count(*) AS n FROM promotion WHERE status IN ('received', 'checking')`,
      );
      if (Number(busy.n) === 0) break;
      if (i > 200) throw new Error(`${busy.n} promotions stay busy`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [p] = await rig.sql<{ n: string }>('SELECT count(*) AS n FROM promotion');
    const [a] = await rig.sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM audit_event WHERE subject_type = 'promotion')
            + (SELECT count(*) FROM audit_pending WHERE subject_type = 'promotion') AS n`,
    );
    return { promotions: Number(p.n), promotionEvents: Number(a.n) };
  }

  /** The audit events recorded for one request (sealed or not yet). */
  async function eventsOfRequest(
    requestId: string,
  ): Promise<Array<{ action: string; actor: any; details: any }>> {
    return rig.sql(
      `SELECT action, actor, details FROM audit_event WHERE details->>'requestId' = $1
       UNION ALL SELECT action, actor, details FROM audit_pending WHERE details->>'requestId' = $1`,
      [requestId],
    );
  }

  function expectUnauthenticated(res: ApiResponse, reason: string | RegExp): void {
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
      status: 401,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Unauthorized' });
    expect(res.body.details.reason).toEqual(
      typeof reason === 'string' ? reason : expect.stringMatching(reason),
    );
    expect(JSON.stringify(res.body)).not.toMatch(/stack|at \//);
  }

  describe('a token that is not good enough gets 401 and changes nothing', () => {
    it('accepts a minted token when nothing is wrong with it (the control)', async () => {
      const res = await rig.call('GET', '/v1/whoami', { token: await mint() });
      expect(res.status).toBe(200);
      expect(relevant(res.body.roles)).toEqual([{ role: 'requester', environment: null }]);
    });

    const cases: Array<[string, () => Promise<Record<string, string>>, string | RegExp]> = [
      ['no token', async () => ({}), 'missing bearer token'],
      ['an empty bearer token', async () => ({ authorization: 'Bearer ' }), 'missing bearer token'],
      [
        'another scheme',
        async () => ({ authorization: 'Basic Y2ktYXBwOmNpLWFwcC1zZWNyZXQ=' }),
        'missing bearer token',
      ],
      ['a malformed token', async () => ({ authorization: 'Bearer not-a-jwt' }), 'not a JWT'],
      ['three segments of garbage', async () => ({ authorization: 'Bearer aaa.bbb.ccc' }), 'not a JWT'],
      [
        'a token signed by a key of our own',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          const token = await new SignJWT({ ...ciClaims, iat: now(), exp: now() + 240, jti: randomUUID() })
            .setProtectedHeader({ alg: 'ES256', kid: 'our-own-key' })
            .sign(privateKey);
          return { authorization: `Bearer ${token}` };
        },
        'signed by an unknown key',
      ],
      [
        'a token signed by a key of our own under the issuer key id',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          const token = await new SignJWT({ ...ciClaims, iat: now(), exp: now() + 240, jti: randomUUID() })
            .setProtectedHeader({ alg: 'ES256', kid: ciKey.jwk.kid })
            .sign(privateKey);
          return { authorization: `Bearer ${token}` };
        },
        'signature does not verify',
      ],
      [
        'an expired token',
        async () => ({ authorization: `Bearer ${await mint({ iat: now() - 900, exp: now() - 600 })}` }),
        'expired',
      ],
      [
        'a token not valid before a future time',
        async () => ({ authorization: `Bearer ${await mint({ nbf: now() + 600 })}` }),
        'claim nbf is not acceptable',
      ],
      [
        'a token issued in the future',
        async () => ({ authorization: `Bearer ${await mint({ iat: now() + 600, exp: now() + 900 })}` }),
        /future|claim iat/,
      ],
      [
        'a token for another audience',
        async () => ({ authorization: `Bearer ${await mint({ aud: 'not-airlock' })}` }),
        'claim aud is not acceptable',
      ],
      [
        'a token for two audiences',
        async () => ({ authorization: `Bearer ${await mint({ aud: ['airlock', 'elsewhere'] })}` }),
        'a token for several audiences is not accepted',
      ],
      [
        'a CI key signing for the people issuer',
        async () => ({ authorization: `Bearer ${await mint({ iss: rig.issuers.people })}` }),
        /signed by an unknown key|signature does not verify/,
      ],
      [
        'an untrusted issuer',
        async () => ({ authorization: `Bearer ${await mint({ iss: 'https://untrusted.example.com' })}` }),
        'issuer not trusted',
      ],
      [
        'alg none',
        async () => {
          const payload = { ...ciClaims, iat: now(), exp: now() + 240, jti: randomUUID() };
          return { authorization: `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.` };
        },
        'algorithm not allowed',
      ],
      [
        'HS256 with the issuer public key as the secret',
        async () => {
          const token = await new SignJWT({ ...ciClaims, iat: now(), exp: now() + 240, jti: randomUUID() })
            .setProtectedHeader({ alg: 'HS256', kid: ciKey.jwk.kid })
            .sign(new TextEncoder().encode(ciKey.publicPem));
          return { authorization: `Bearer ${token}` };
        },
        'algorithm not allowed',
      ],
      [
        'the real key under an unknown key id',
        async () => ({ authorization: `Bearer ${await mint({}, { kid: 'no-such-key' })}` }),
        'signed by an unknown key',
      ],
      [
        'a real token with its payload edited',
        async () => {
          const [h, , s] = (await rig.token('requester', { fresh: true })).split('.');
          const edited = { ...ciClaims, repository: 'acme/evil', jti: randomUUID(), exp: now() + 240 };
          return { authorization: `Bearer ${h}.${b64url(edited)}.${s}` };
        },
        'signature does not verify',
      ],
      [
        'a real token with its signature removed',
        async () => {
          const [h, p] = (await rig.token('requester', { fresh: true })).split('.');
          return { authorization: `Bearer ${h}.${p}.` };
        },
        /signature does not verify|malformed token/,
      ],
      [
        'a token without a subject',
        async () => ({ authorization: `Bearer ${await mint({}, {}, ['sub'])}` }),
        'claim sub is missing',
      ],
      [
        'a token without an expiry',
        async () => ({ authorization: `Bearer ${await mint({}, {}, ['exp'])}` }),
        'claim exp is missing',
      ],
      [
        'a CI token without a jti',
        async () => ({ authorization: `Bearer ${await mint({}, {}, ['jti'])}` }),
        'CI tokens must carry a jti',
      ],
    ];

    it.each(cases)('%s', async (_name, headers, reason) => {
      const before = await promotionState();
      const res = await rig.call('POST', '/v1/promotions', {
        headers: await headers(),
        body: promotionBody(),
      });
      expectUnauthenticated(res, reason);
      // Reads are refused the same way.
      expectUnauthenticated(await rig.call('GET', '/v1/promotions', { headers: await headers() }), reason);
      expect(await promotionState()).toEqual(before);
      // An unverified token names no one: the refusal is logged and counted, not audited (the
      // trail is append-only; trust-boundaries.e2e-spec.ts counts 2,000 of these).
      expect(await eventsOfRequest(res.body.requestId)).toEqual([]);
    });
  });

  describe('a CI token requests one promotion', () => {
    it('creates the first and refuses the replay with 409 token_replayed', async () => {
      const token = await rig.token('requester', { fresh: true });
      const before = await promotionState();
      const first = await rig.call('POST', '/v1/promotions', { token, body: promotionBody() });
      expect(first.status).toBe(201);
      const replay = await rig.call('POST', '/v1/promotions', { token, body: promotionBody() });
      expect(replay.status).toBe(409);
      expect(replay.body).toMatchObject({ code: 'token_replayed', status: 409 });
      expect(replay.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await promotionState()).promotions).toBe(before.promotions + 1);
      // The token still reads: only requesting is once per token.
      expect((await rig.call('GET', `/v1/promotions/${first.body.id}`, { token })).status).toBe(200);
    });

    it('lets exactly one of two simultaneous requests with one token through', async () => {
      const token = await rig.token('requester', { fresh: true });
      const results = await Promise.all(
        [1, 2].map(() => rig.call('POST', '/v1/promotions', { token, body: promotionBody() })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const [{ n }] = await rig.sql<{ n: string }>(
        'SELECT count(*) AS n FROM promotion WHERE token_jti = $1',
        [decodeJwt(token).jti],
      );
      expect(Number(n)).toBe(1);
    });

    it('treats a minted token with a fresh jti as a new request (the control)', async () => {
      const res = await rig.call('POST', '/v1/promotions', { token: await mint(), body: promotionBody() });
      expect(res.status).toBe(201);
    });
  });

  describe('who acted comes from the token', () => {
    it.each(['requester', 'actor', 'createdBy', 'user'])('refuses a %s field in the body', async (field) => {
      const before = await promotionState();
      const res = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: { ...(promotionBody() as object), [field]: `mallory@https://evil.example.com` },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors).toContainEqual({ field, message: `unknown field ${field}` });
      expect(await promotionState()).toEqual(before);
    });

    it('refuses an actor on a cancel, too', async () => {
      const created = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: promotionBody(),
      });
      expect(created.status).toBe(201);
      const res = await rig.call('POST', `/v1/promotions/${created.body.id}/cancel`, {
        as: 'admin',
        body: { reason: 'x', actor: 'someone-else' },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual({ field: 'actor', message: 'unknown field actor' });
    });

    it('records the token subject as the requester, in the promotion and in the audit trail', async () => {
      const token = await rig.token('requester', { fresh: true });
      const claims = decodeJwt(token);
      const expected = `${claims.sub}@${rig.issuers.ci}`;
      const res = await rig.call('POST', '/v1/promotions', { token, body: promotionBody() });
      expect(res.status).toBe(201);
      expect(res.body.requester).toBe(expected);
      expect(res.body.claims).toMatchObject({ repository: 'acme/app', actor: 'carol', sha: claims.sha });
      const [row] = await rig.sql('SELECT requester, requester_key, token_jti FROM promotion WHERE id = $1', [
        res.body.id,
      ]);
      expect(row).toEqual({
        requester: { kind: 'ci', issuer: rig.issuers.ci, subject: claims.sub },
        requester_key: expected,
        token_jti: claims.jti,
      });
      await rig.auditSealed();
      const audit = await rig.call('GET', `/v1/audit?action=promotion.requested&subjectId=${res.body.id}`, {
        as: 'auditor',
      });
      expect(audit.body.items).toHaveLength(1);
      expect(audit.body.items[0].actor).toEqual({ kind: 'ci', issuer: rig.issuers.ci, subject: claims.sub });
      const listed = await rig.call('GET', `/v1/promotions?requester=${encodeURIComponent(expected)}`, {
        as: 'auditor',
      });
      expect(listed.body.items.map((p: any) => p.id)).toContain(res.body.id);
    });
  });

  describe('whoami', () => {
    it.each([
      ['requester', 'ci', [{ role: 'requester', environment: null }]],
      ['approver', 'human', [{ role: 'approver', environment: null }]],
      ['admin', 'human', [{ role: 'admin', environment: null }]],
      ['auditor', 'human', [{ role: 'auditor', environment: null }]],
      ['noRole', 'human', []],
    ] as const)('shows the %s its identity and roles', async (who, kind, roles) => {
      const token = await rig.token(who);
      const res = await rig.call('GET', '/v1/whoami', { token });
      expect(res.status).toBe(200);
      const { sub, iss } = decodeJwt(token);
      expect(res.body).toMatchObject({ identity: `${sub}@${iss}`, kind });
      expect(relevant(res.body.roles)).toEqual(roles);
      if (kind === 'ci')
        expect(res.body.claims).toMatchObject({ repository: 'acme/app', ref: 'refs/heads/main' });
      else expect(res.body.claims).toEqual({});
    });
  });

  describe('trusted issuers and role bindings over the admin API', () => {
    let other: OidcProviderHandle;
    let issuerId: string | undefined;
    const bindings: string[] = [];

    beforeAll(async () => {
      other = await startOidcProvider();
    });

    afterAll(async () => {
      // The run's database is shared: leave no trust behind.
      // (A binding another process already removed is a 404 to propose: nothing left to do.)
      for (const id of bindings)
        await rig.trustChange('DELETE', `/v1/role-bindings/${id}`).catch(() => undefined);
      if (issuerId) await rig.trustChange('DELETE', `/v1/trusted-issuers/${issuerId}`).catch(() => undefined);
      await other?.stop();
    });

    async function bind(body: Record<string, unknown>): Promise<string> {
      const created = await rig.trustChange('POST', '/v1/role-bindings', body);
      bindings.push(created.id);
      return created.id as string;
    }

    /** Polls (briefly) until a call answers `status`; returns the last status seen. */
    async function eventually(call: () => Promise<ApiResponse>, status: number, ms = 3000): Promise<number> {
      const until = Date.now() + ms;
      for (;;) {
        const res = await call();
        if (res.status === status || Date.now() > until) return res.status;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('refuses, trusts, grants, revokes and distrusts, each taking effect on the same token', async () => {
      const dave = await getToken(other.issuer, 'dave');
      const bob = await getToken(other.issuer, 'bob');
      const audit = (token: string): Promise<ApiResponse> => rig.call('GET', '/v1/audit?limit=1', { token });
      const whoami = (token: string): Promise<ApiResponse> => rig.call('GET', '/v1/whoami', { token });

      // Not trusted yet.
      expectUnauthenticated(await whoami(dave), 'issuer not trusted');

      // An admin proposes trusting it, another approves: the token authenticates, with no role.
      const added = await rig.trustChange('POST', '/v1/trusted-issuers', {
        issuer: other.issuer,
        kind: 'human',
        audience: 'airlock',
        groupsClaim: 'groups',
      });
      issuerId = added.id;
      const me = await whoami(dave);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ identity: `dave@${other.issuer}`, kind: 'human', roles: [] });
      expect((await audit(dave)).status).toBe(403);

      // A binding by subject: the same token now holds the role (the verified-token cache is dropped).
      const bySubject = await bind({ role: 'auditor', issuer: other.issuer, subject: 'dave' });
      expect((await whoami(dave)).body.roles).toEqual([{ role: 'auditor', environment: null }]);
      expect((await audit(dave)).status).toBe(200);

      // A binding by group: bob (security) becomes an approver in one environment only.
      expect((await whoami(bob)).body.roles).toEqual([]);
      await bind({ role: 'approver', issuer: other.issuer, group: 'security', environment: env });
      expect((await whoami(bob)).body.roles).toEqual([{ role: 'approver', environment: env }]);
      expect((await audit(bob)).status).toBe(403);

      // Removed over the API: gone for the same token at once.
      expect(await rig.trustChange('DELETE', `/v1/role-bindings/${bySubject}`)).toEqual({
        removed: bySubject,
      });
      expect((await whoami(dave)).body.roles).toEqual([]);
      expect((await audit(dave)).status).toBe(403);

      // The audit trail has both changes, by the admin who approved (and applied) them.
      await rig.auditSealed();
      const trail = await rig.call('GET', `/v1/audit?subjectType=role_binding&subjectId=${bySubject}`, {
        as: 'auditor',
      });
      expect(trail.body.items.map((e: any) => e.action)).toEqual([
        'identity.role_bound',
        'identity.role_unbound',
      ]);
      expect(trail.body.items[0].actor).toMatchObject({ issuer: rig.issuers.people, subject: 'frank' });

      // Distrusted: the issuer's tokens are refused again.
      await rig.trustChange('DELETE', `/v1/trusted-issuers/${issuerId}`);
      issuerId = undefined;
      expectUnauthenticated(await whoami(dave), 'issuer not trusted');
      expectUnauthenticated(await whoami(bob), 'issuer not trusted');
    });

    it('drops a binding removed by another process (NOTIFY), also for a token already verified', async () => {
      const token = await rig.token('noRole', { fresh: true });
      const id = await bind({ role: 'auditor', issuer: rig.issuers.people, subject: 'dave' });
      const audit = (): Promise<ApiResponse> => rig.call('GET', '/v1/audit?limit=1', { token });
      expect((await audit()).status).toBe(200); // verified and remembered with the role

      // Another Airlock process removes it: its transaction deletes the row and notifies.
      const client = await rig.db.connect();
      try {
        await client.query('BEGIN');
        await client.query('DELETE FROM role_binding WHERE id = $1', [id]);
        await client.query(`SELECT pg_notify('identity_changed', '')`);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      // Well before the 10 s reload and the 60 s token cache: the notification does it.
      expect(await eventually(audit, 403, 2000)).toBe(403);
      expect(relevant((await rig.call('GET', '/v1/whoami', { token })).body.roles)).toEqual([]);

      // And one added by another process is picked up the same way.
      const added = await rig.sql<{ id: string }>(
        `INSERT INTO role_binding (role, issuer, subject, created_by)
         VALUES ('auditor', $1, 'dave', '{"kind":"system","issuer":"airlock","subject":"test"}') RETURNING id`,
        [rig.issuers.people],
      );
      bindings.push(added[0].id);
      await rig.sql(`SELECT pg_notify('identity_changed', '')`);
      expect(await eventually(audit, 200, 2000)).toBe(200);
    });
  });
});
