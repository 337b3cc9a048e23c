// Trust boundaries (issue #11): what a caller without credentials can cost (nothing durable), what
// hostile bodies and tokens get (a clear 4xx, never a 500), and the headers every answer carries.
// Rate limits have their own file (rate-limits.e2e-spec.ts): they need small budgets.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { decodeJwt, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { type ApiResponse, artifact, Rig } from '../support/rig';

const hex = (): string => randomBytes(4).toString('hex');
const now = (): number => Math.floor(Date.now() / 1000);
/** JSON nested `levels` deep: about 10 bytes a level. */
const deepJson = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** Runs `task` for 0..n-1 with at most `width` at a time. */
async function pool<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

describe('trust boundaries', () => {
  let rig: Rig;
  const env = `trust-${hex()}`;
  let ciKey: JWK & { kid: string };
  let ciClaims: JWTPayload;

  beforeAll(async () => {
    rig = await Rig.start();
    await rig.environment(env);
    const file = join(process.env.AIRLOCK_TEST_DATA_DIR as string, 'issuers', 'dev-ci-oidc-jwks.json');
    ciKey = (JSON.parse(readFileSync(file, 'utf8')) as { keys: Array<JWK & { kid: string }> }).keys[0];
    ciClaims = decodeJwt(await rig.token('requester', { fresh: true }));
  });

  afterAll(async () => {
    await rig?.stop();
  });

  /** A CI token signed with the issuer's real key (as auth.e2e-spec.ts mints them). */
  async function mint(claims: Record<string, unknown>): Promise<string> {
    const key = await importJWK(ciKey, 'ES256');
    return new SignJWT({
      ...ciClaims,
      iat: now() - 5,
      exp: now() + 240,
      jti: `minted-${randomUUID()}`,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: ciKey.kid, typ: 'at+jwt' })
      .sign(key);
  }

  /** Rows in both audit tables (pending and sealed), read in one snapshot. */
  /**
   * Audit rows of callers: the worker's own rounds (a verification run another test file queued,
   * taken by this rig's relay from the shared outbox) may write system rows meanwhile.
   */
  async function auditRows(): Promise<number> {
    const [r] = await rig.sql<{ n: string }>(
      `SELECT (SELECT count(*) FROM audit_event WHERE actor->>'kind' <> 'system')
            + (SELECT count(*) FROM audit_pending WHERE actor->>'kind' <> 'system') AS n`,
    );
    return Number(r.n);
  }

  async function auditOfRequest(requestId: string): Promise<any[]> {
    return rig.sql(
      `SELECT actor, subject_id, details FROM audit_event WHERE details->>'requestId' = $1
       UNION ALL SELECT actor, subject_id, details FROM audit_pending WHERE details->>'requestId' = $1`,
      [requestId],
    );
  }

  /** The sum of a counter's samples on /metrics. */
  async function counter(name: string): Promise<number> {
    const text = await (await fetch(`${rig.stack.apiUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  function expectProblem(res: ApiResponse, status: number, code: string): void {
    expect({ status: res.status, type: res.headers.get('content-type'), code: res.body?.code }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
      code,
    });
  }

  describe('requests that cannot be authenticated cost nothing durable', () => {
    it('2,000 anonymous refusals add no audit row and are counted instead', async () => {
      const before = await auditRows();
      const countedBefore = await counter('airlock_http_unaudited_refusals_total');
      const longPath = `/v1/${'p'.repeat(14_000)}`;
      const statuses = await pool(2000, 16, async (i) => {
        const kind = i % 4;
        const res =
          kind === 0
            ? await rig.call('POST', '/v1/promotions', { body: { artifact: artifact(), environment: env } })
            : kind === 1
              ? await rig.call('POST', '/v1/environments', { token: `not-a-jwt-${i}`, body: { name: 'x' } })
              : kind === 2
                ? await rig.call('POST', longPath, { body: { x: i } })
                : await rig.call('DELETE', `/v1/role-bindings/${randomUUID()}`);
        return res.status;
      });
      expect(new Set(statuses)).toEqual(new Set([401, 404]));
      expect(await auditRows()).toBe(before);
      expect(await counter('airlock_http_unaudited_refusals_total')).toBeGreaterThanOrEqual(
        countedBefore + 2000,
      );
    });

    it('refusals of a token that verifies but grants no role add no audit row either', async () => {
      // Any workload of a trusted CI issuer can mint such a token, a fresh subject per repository:
      // here a repository no binding names (other test files bind the development clients).
      const before = await auditRows();
      const repository = `nobody/${randomBytes(4).toString('hex')}`;
      const token = await mint({ sub: `repo:${repository}:ref:refs/heads/main`, repository });
      const statuses = await pool(40, 8, async (i) => {
        const res =
          i % 2 === 0
            ? await rig.call('POST', `/v1/promotions/${randomUUID()}/approvals`, {
                token,
                body: { decision: 'approve', digest: `sha256:${'a'.repeat(64)}` },
              })
            : await rig.call('POST', '/v1/environments', { token, body: { name: `x-${i}` } });
        return res.status;
      });
      expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
      expect(await auditRows()).toBe(before);
    });

    it("keeps an authenticated caller's refusal on record, with the path capped", async () => {
      const res = await rig.call('POST', `/v1/environments/${'n'.repeat(14_000)}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 0 } } },
      });
      expectProblem(res, 400, 'validation_failed');
      const [event] = await auditOfRequest(res.body.requestId);
      expect(event.actor).toMatchObject({ issuer: rig.issuers.people, subject: 'erin' });
      expect(event.subject_id).toBe('POST /v1/environments/:name/policies');
      expect(event.details.path.length).toBeLessThanOrEqual(256);
      expect(event.details.path).toMatch(/^\/v1\/environments\/nnnn.*…$/);
      expect(JSON.stringify(event).length).toBeLessThan(1024);
    });
  });

  describe('deep and hostile JSON', () => {
    it('refuses a body nested 2,000 levels with 400 body_too_deep, also for a caller with no role, and stays healthy', async () => {
      const body = deepJson(2000);
      const answers = pool(40, 8, async (i) =>
        rig.call('POST', '/v1/promotions', { as: i % 2 ? 'noRole' : null, rawBody: body }),
      );
      // Health answers while the deep bodies are refused.
      const health = await fetch(`${rig.stack.apiUrl}/healthz`);
      expect(health.status).toBe(200);
      for (const res of await answers) {
        expectProblem(res, 400, 'body_too_deep');
        expect(res.body.detail).toBe('the JSON body nests objects and arrays more than 32 levels deep');
      }
      // Nesting up to the limit is parsed (and then judged by the DTO like any other body).
      const atLimit = await rig.call('POST', '/v1/promotions', { as: 'noRole', rawBody: deepJson(31) });
      expect(atLimit.status).not.toBe(500);
      expect(atLimit.body.code).not.toBe('body_too_deep');
      const log = readFileSync(
        join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'),
        'utf8',
      );
      expect(log).not.toMatch(/RangeError|Maximum call stack/);
    });

    it.each([
      ['__proto__', '{"artifact":"x","__proto__":{"admin":true}}', /JSON key __proto__ is not accepted/],
      [
        'nested __proto__',
        '{"metadata":{"a":{"__proto__":{}}}}',
        /JSON key metadata\.a\.__proto__ is not accepted/,
      ],
      ['escaped __proto__', '{"\\u005f_proto__":{"admin":true}}', /JSON key __proto__ is not accepted/],
      [
        'constructor.prototype',
        '{"constructor":{"prototype":{"admin":true}}}',
        /constructor\.prototype is not accepted/,
      ],
    ])('refuses a %s key, saying so', async (_name, rawBody, detail) => {
      const res = await rig.call('POST', '/v1/promotions', { as: 'requester', rawBody });
      expectProblem(res, 400, 'malformed_body');
      expect(res.body.detail).toMatch(detail);
    });

    it('answers malformed JSON as problem+json', async () => {
      const res = await rig.call('POST', '/v1/promotions', { as: 'requester', rawBody: '{"a":' });
      expectProblem(res, 400, 'malformed_body');
      expect(res.body.detail).toMatch(/^the body is not valid JSON/);
    });
  });

  describe('tokens', () => {
    it('accepts a token only from the Authorization header', async () => {
      const token = await rig.token('auditor');
      const inQuery = await rig.call('GET', `/v1/promotions?access_token=${token}`);
      expectProblem(inQuery, 401, 'unauthenticated');
      expect(inQuery.body.detail).toMatch(/query string .*Authorization header/);
      const inBody = await rig.call('POST', '/v1/promotions', {
        body: {
          access_token: await rig.token('requester', { fresh: true }),
          artifact: artifact(),
          environment: env,
        },
      });
      expectProblem(inBody, 401, 'unauthenticated');
      expect(inBody.body.detail).toMatch(/request body .*Authorization header/);
      // Also when a header is sent as well: the request is refused, not half-read.
      const both = await rig.call('GET', `/v1/promotions?access_token=${token}`, { as: 'auditor' });
      expectProblem(both, 401, 'unauthenticated');
      expect((await rig.call('GET', '/v1/promotions', { as: 'auditor' })).status).toBe(200);
    });

    it('refuses a token that lives longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS', async () => {
      const tenYears = await mint({ exp: now() + 10 * 365 * 24 * 3600 });
      const res = await rig.call('GET', '/v1/whoami', { token: tenYears });
      expectProblem(res, 401, 'unauthenticated');
      expect(res.body.details.reason).toBe('lifetime over 86400 s');
      // Issued long ago and still valid: the lifetime counts from iat.
      const old = await mint({ iat: now() - 86_000, exp: now() + 1000 });
      expect((await rig.call('GET', '/v1/whoami', { token: old })).body.details.reason).toBe(
        'lifetime over 86400 s',
      );
      // Within the cap: accepted.
      expect((await rig.call('GET', '/v1/whoami', { token: await mint({ exp: now() + 3600 }) })).status).toBe(
        200,
      );
    });
  });

  describe('headers and errors', () => {
    const SECURITY = {
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
    };
    const headersOf = (res: { headers: Headers }, names: string[]): Record<string, string | null> =>
      Object.fromEntries(names.map((n) => [n, res.headers.get(n)]));

    it('puts the security headers and no-store on /v1 answers, errors and /healthz', async () => {
      const names = [...Object.keys(SECURITY), 'cache-control'];
      for (const res of [
        await rig.call('GET', '/v1/promotions?limit=1', { as: 'auditor' }),
        await rig.call('GET', '/v1/promotions'),
        await rig.call('GET', '/v1/no-such-thing', { as: 'auditor' }),
        await rig.call('POST', '/v1/promotions', { as: 'requester', rawBody: '{' }),
        await rig.call('GET', '/healthz'),
      ]) {
        expect(headersOf(res, names)).toEqual({ ...SECURITY, 'cache-control': 'no-store' });
      }
    });

    it('serves /docs with a CSP its own assets satisfy', async () => {
      const page = await fetch(`${rig.stack.apiUrl}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(headersOf(page, Object.keys(SECURITY))).toEqual(SECURITY);
      const csp = page.headers.get('content-security-policy') as string;
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      const html = await page.text();
      // script-src 'self' runs no inline script: every script must come from a file.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const refs = [...html.matchAll(/(?:src|href)=["']([^"']+)["']/g)].map((m) => m[1]);
      expect(refs.length).toBeGreaterThanOrEqual(4);
      for (const ref of refs) {
        const url = new URL(ref, page.url);
        // 'self': the same origin as the page.
        expect(url.origin).toBe(new URL(rig.stack.apiUrl).origin);
        const asset = await fetch(url);
        await asset.arrayBuffer();
        expect({ ref, status: asset.status }).toEqual({ ref, status: 200 });
      }
    });

    it('answers headers over the size limit with 431 problem+json', async () => {
      const url = new URL(rig.stack.apiUrl);
      const res = await new Promise<{ status: number; type: string | undefined; body: string }>(
        (resolve, reject) => {
          const req = httpRequest(
            {
              host: url.hostname,
              port: url.port,
              path: '/v1/promotions',
              headers: { 'x-filler': 'f'.repeat(20_000) },
            },
            (r) => {
              let body = '';
              r.setEncoding('utf8');
              r.on('data', (c: string) => (body += c));
              r.on('end', () =>
                resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'], body }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
      expect(res.status).toBe(431);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ status: 431, code: 'header_too_large' });
    });

    it('answers unknown routes and paths that are not valid percent-encoding as problem+json', async () => {
      expectProblem(await rig.call('GET', '/nowhere'), 404, 'not_found');
      expectProblem(await rig.call('PATCH', '/healthz'), 404, 'not_found');
      const bad = await rig.call('GET', '/v1/promotions/%E0%A4%A');
      expectProblem(bad, 400, 'malformed_request');
    });
  });
});
