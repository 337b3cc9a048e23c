// Rate limits: per verified caller and per address, counted in Redis so that they hold across API
// replicas, 429 problem+json with Retry-After, health and docs exempt, and an API whose limiter
// cannot reach Redis still answering (fail open).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { freePort } from '../../apps/devstack/processes';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { type ApiResponse, Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

const ANONYMOUS_MAX = 6;
const CALLER_MAX = 10;
const LIMITS = {
  RATE_LIMIT_ANONYMOUS_MAX: String(ANONYMOUS_MAX),
  RATE_LIMIT_CALLER_MAX: String(CALLER_MAX),
  // Long enough that no window ends while a test counts.
  RATE_LIMIT_WINDOW_SECONDS: '600',
};

describe('rate limits', () => {
  let rig: Rig;
  /** A second API process of the same deployment (same database, same Redis prefix). */
  let second: AirlockStack;
  /** An API of its own whose Redis is a closed port. */
  let cutOff: AirlockStack | undefined;

  beforeAll(async () => {
    rig = await Rig.start(LIMITS);
    second = new AirlockStack({
      dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${rig.prefix}-second`),
      databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      redisUrl: testEnv().redisUrl,
      redisPrefix: rig.prefix,
      bootstrap: developmentBootstrap(rig.issuers),
      mode: 'test',
      env: LIMITS,
    });
    await second.startApi();
  });

  afterAll(async () => {
    await Promise.all([second?.stop(), cutOff?.stop()]);
    await rig?.stop();
  });

  async function call(apiUrl: string, path: string, token?: string): Promise<ApiResponse> {
    const res = await fetch(`${apiUrl}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  function expectLimited(res: ApiResponse, scope: 'caller' | 'address'): void {
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
      status: 429,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    expect(res.body).toMatchObject({ status: 429, code: 'rate_limited', details: { scope } });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  }

  it('limits anonymous requests per address, across both API processes, and exempts health and docs', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < ANONYMOUS_MAX; i++) {
      // Alternating between the two processes: one budget.
      const res = await call(
        i % 2 ? second.apiUrl : rig.stack.apiUrl,
        i % 3 ? '/v1/promotions' : '/v1/nowhere',
      );
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 401 || s === 404)).toBe(true);
    expectLimited(await call(rig.stack.apiUrl, '/v1/promotions'), 'address');
    expectLimited(await call(second.apiUrl, '/v1/nowhere'), 'address');
    // A token that does not verify is anonymous: it spends the address's budget, which is gone.
    expectLimited(await call(second.apiUrl, '/v1/promotions', 'not-a-jwt'), 'address');
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs', '/openapi.json']) {
      const res = await fetch(`${rig.stack.apiUrl}${path}`);
      await res.arrayBuffer();
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it("limits a verified caller by identity, across both processes, whatever the address's budget", async () => {
    // The address's anonymous budget is spent (previous test); a verified caller has its own.
    const token = await rig.token('auditor');
    for (let i = 0; i < CALLER_MAX; i++) {
      const res = await call(i % 2 ? second.apiUrl : rig.stack.apiUrl, '/v1/promotions?limit=1', token);
      expect({ i, status: res.status }).toEqual({ i, status: 200 });
      expect(Number(res.headers.get('ratelimit-remaining'))).toBe(CALLER_MAX - i - 1);
    }
    expectLimited(await call(second.apiUrl, '/v1/promotions?limit=1', token), 'caller');
    // Another token of the same person is the same caller.
    expectLimited(
      await call(rig.stack.apiUrl, '/v1/whoami', await rig.token('auditor', { fresh: true })),
      'caller',
    );
    // Someone else is not affected.
    expect((await call(rig.stack.apiUrl, '/v1/whoami', await rig.token('approver'))).status).toBe(200);
  });

  it("does not let a forged token's claims spend someone else's budget", async () => {
    const victim = await rig.token('admin');
    const first = await call(rig.stack.apiUrl, '/v1/whoami', victim);
    expect(first.status).toBe(200);
    const remaining = Number(first.headers.get('ratelimit-remaining'));
    // The victim's claims, signed with a key of the attacker's: refused, and counted to the address.
    const claims = decodeJwt(victim);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'attacker' })
      .sign(privateKey);
    for (let i = 0; i < 5; i++) expectLimited(await call(rig.stack.apiUrl, '/v1/whoami', forged), 'address');
    const after = await call(rig.stack.apiUrl, '/v1/whoami', victim);
    expect(after.status).toBe(200);
    expect(Number(after.headers.get('ratelimit-remaining'))).toBe(remaining - 1);
  });

  it('lets requests through when Redis cannot be reached, and says so in the log', async () => {
    const dataDir = join(process.env.AIRLOCK_TEST_DATA_DIR as string, `${rig.prefix}-cut-off`);
    cutOff = new AirlockStack({
      dataDir,
      databaseUrl: process.env.AIRLOCK_TEST_DATABASE_URL as string,
      redisUrl: `redis://127.0.0.1:${await freePort()}/0`,
      redisPrefix: `${rig.prefix}-cut-off-${randomBytes(2).toString('hex')}`,
      bootstrap: developmentBootstrap(rig.issuers),
      mode: 'test',
      env: LIMITS,
    });
    // Not ready (no Redis) but alive.
    await cutOff.startApi('/healthz');
    const token = await rig.token('approver', { fresh: true });
    for (let i = 0; i < CALLER_MAX + 2; i++) {
      const res = await call(cutOff.apiUrl, '/v1/whoami', token);
      expect({ i, status: res.status }).toEqual({ i, status: 200 });
    }
    for (let i = 0; i < ANONYMOUS_MAX + 2; i++) {
      expect((await call(cutOff.apiUrl, '/v1/promotions')).status).toBe(401);
    }
    const log = readFileSync(join(dataDir, 'api.log'), 'utf8');
    expect(log).toContain('rate limit store unavailable: requests pass unlimited');
  });
});
