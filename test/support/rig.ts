import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { AirlockStack, developmentBootstrap } from '../../apps/devstack/stack';
import { getToken } from './oidc';
import { testEnv } from './test-env';

/** AIRLOCK_ALLOWED_HOSTS of a test deployment unless a test names its own. */
export const TEST_ALLOWED_HOSTS =
  '127.0.0.1:*,*.example.com,*.example.com:*,*.*.example.com,*.*.example.com:*';

/** Test clients of the development issuers, by the role their bindings give them. */
export const CLIENTS = {
  requester: { issuer: 'ci', client: 'ci-app' },
  otherRepo: { issuer: 'ci', client: 'ci-other' },
  approver: { issuer: 'people', client: 'alice' },
  approver2: { issuer: 'people', client: 'bob' },
  admin: { issuer: 'people', client: 'erin' },
  admin2: { issuer: 'people', client: 'frank' },
  auditor: { issuer: 'people', client: 'grace' },
  noRole: { issuer: 'people', client: 'dave' },
  /** carol: the human actor behind ci-app's runs (the CI claims' `actor`). */
  author: { issuer: 'people', client: 'carol' },
  // No role by default: tests bind these to one environment (see test/support/role-bindings.ts).
  /** ivan: an approver of one (staging) environment, once a test binds him. */
  scopedApprover: { issuer: 'people', client: 'ivan' },
  /** judy: an admin of one (staging) environment, once a test binds her. */
  scopedAdmin: { issuer: 'people', client: 'judy' },
  /** A CI workload of team/app (its repository claim), requester only where a test binds it. */
  teamRepo: { issuer: 'ci', client: 'ci-team' },
} as const;
export type ClientName = keyof typeof CLIENTS;

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  as?: ClientName | null;
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface RigOptions {
  /** Default: the run's shared database (AIRLOCK_TEST_DATABASE_URL). */
  databaseUrl?: string;
}

/**
 * One Airlock deployment for a test file: its own API and worker processes and Redis prefix,
 * against the run's database and issuers (see global-setup.ts).
 */
export class Rig {
  readonly db: Pool;
  readonly redis: Redis;
  readonly prefix = `airlock-test-${randomBytes(4).toString('hex')}`;
  readonly issuers = {
    ci: process.env.AIRLOCK_TEST_CI_ISSUER as string,
    people: process.env.AIRLOCK_TEST_PEOPLE_ISSUER as string,
  };
  stack: AirlockStack;

  /**
   * `options.databaseUrl`: a database of the test file's own (migrated) instead of the run's shared
   * one, for tests that break the audit chain on purpose; `db` and both processes then use it.
   */
  constructor(env: Record<string, string> = {}, options: RigOptions = {}) {
    const databaseUrl = options.databaseUrl ?? process.env.AIRLOCK_TEST_DATABASE_URL;
    if (!databaseUrl) throw new Error('run e2e tests through jest (global setup prepares the database)');
    this.db = new Pool({ connectionString: databaseUrl, max: 4 });
    // An idle client whose backend went away (a database dropped or restarted on purpose by a
    // test) is replaced by the pool; its error is not the running test's failure.
    this.db.on('error', () => undefined);
    this.redis = new Redis(testEnv().redisUrl, { lazyConnect: false });
    this.stack = new AirlockStack({
      dataDir: join(process.env.AIRLOCK_TEST_DATA_DIR as string, this.prefix),
      databaseUrl,
      redisUrl: testEnv().redisUrl,
      redisPrefix: this.prefix,
      bootstrap: developmentBootstrap(this.issuers),
      mode: 'test',
      env: {
        AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
        WORKER_LOCK_DURATION_MS: '2000',
        // No promoter unless a test asks for one (WORKER_QUEUES including promote): test
        // environments point at registries that do not exist, so approved is where they stop.
        WORKER_QUEUES: 'checks,maintenance',
        // Suites send thousands of requests from one address and a few callers: budgets out of
        // their way (still counted in Redis); rate-limits.e2e-spec.ts sets small ones.
        RATE_LIMIT_CALLER_MAX: '10000000',
        RATE_LIMIT_ANONYMOUS_MAX: '10000000',
        // Loopback (the run's registries and issuers) and the example.com names tests configure;
        // test mode allows plain http and loopback on these.
        AIRLOCK_ALLOWED_HOSTS: TEST_ALLOWED_HOSTS,
        // Rigs share the run's database but not their Redis prefix: one rig's reconciler would take
        // the working promotions other test files left behind. Tests of the reconciler set it.
        RECONCILE_AFTER_MS: String(24 * 3600_000),
        // Likewise scheduled drift checks: they would visit every rig's environments (and audit
        // it). The drift tests ask for checks on demand.
        DRIFT_CHECK_INTERVAL_MS: '0',
        ...env,
      },
    });
  }

  static async start(env: Record<string, string> = {}, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig(env, options);
    try {
      await rig.stack.start();
    } catch (e) {
      // Close what the constructor opened, or jest waits forever on the pool and Redis.
      await rig.stop().catch(() => undefined);
      throw e;
    }
    return rig;
  }

  private readonly tokens = new Map<string, string>();

  /** The deployment's AIRLOCK_SECRETS_DIR (unless the test gave its own). */
  get secretsDir(): string {
    return this.stack.secretsDir;
  }

  /** Provides a named secret as the operator would: a file in the secrets folder. */
  async writeSecret(name: string, value: string): Promise<void> {
    await writeFile(join(this.secretsDir, name), `${value}\n`, { mode: 0o600 });
  }

  /**
   * Trusts an issuer (as an admin) so credential profiles may name it. Trusted for `human`
   * callers with an audience nobody asks for, so its tokens give no one a role.
   */
  async trustIssuer(issuer: string): Promise<string> {
    const trusted = await this.trustChange('POST', '/v1/trusted-issuers', {
      issuer,
      kind: 'human',
      audience: 'airlock-credential-issuer-only',
    });
    return trusted.id as string;
  }

  /** A real token from the development issuer (fetched over HTTP; a fresh one each call when fresh). */
  async token(name: ClientName, opts: { fresh?: boolean; resource?: string } = {}): Promise<string> {
    const c = CLIENTS[name];
    const cached = this.tokens.get(name);
    if (cached && !opts.fresh && !opts.resource) return cached;
    const token = await getToken(this.issuers[c.issuer], c.client, { resource: opts.resource });
    if (!opts.fresh && !opts.resource) this.tokens.set(name, token);
    return token;
  }

  async call<T = any>(method: string, path: string, o: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const token = o.token ?? (o.as ? await this.token(o.as) : undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined = o.rawBody;
    if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.stack.apiUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  async sql<T = any>(query: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(query, params)).rows as T[];
  }

  /**
   * Approves a proposed change (the 202 a trust route answers) as another admin, and returns what
   * applying it returned (the created binding, environment, …).
   */
  async approveChange(proposal: ApiResponse, as: ClientName = 'admin2'): Promise<any> {
    if (proposal.status !== 202)
      throw new Error(`proposal: ${proposal.status} ${JSON.stringify(proposal.body)}`);
    const res = await this.call('POST', `/v1/changes/${proposal.body.id}/approve`, { as });
    if (res.status !== 200) throw new Error(`approve: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.result;
  }

  /** A trust change proposed by `admin` (erin) and approved by `admin2` (frank): applied. */
  async trustChange(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
    return this.approveChange(await this.call(method, path, { as: 'admin', body }));
  }

  /** Creates an environment (proposed by one admin, approved by another) with an active policy (likewise). */
  async environment(
    name: string,
    policy: Record<string, unknown> = { approvals: { required: 0 } },
    sources = [{ registry: 'registry.staging.example.com', repositories: ['acme/*', 'team/**'] }],
  ): Promise<void> {
    await this.trustChange('POST', '/v1/environments', {
      name,
      sources,
      target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
    });
    const v = await this.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: { document: policy },
    });
    if (v.status !== 201) throw new Error(`policy: ${v.status} ${JSON.stringify(v.body)}`);
    const a = await this.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    if (a.status !== 200) throw new Error(`activate: ${a.status} ${JSON.stringify(a.body)}`);
  }

  /**
   * Waits until the sealer (every second) has sealed every audit event recorded so far: the audit
   * listing shows sealed events only, and says how many are pending.
   */
  async auditSealed(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.call('GET', '/v1/audit?limit=1', { as: 'auditor' });
      if (res.status === 200 && res.body.pending === 0) return;
      if (Date.now() > until) throw new Error(`audit events still pending: ${JSON.stringify(res.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits until a promotion reaches one of the statuses (polling the API). */
  async waitForStatus(id: string, statuses: string[], timeoutMs = 15_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.call('GET', `/v1/promotions/${id}`, { as: 'auditor' });
      if (statuses.includes(res.body?.status)) return res.body;
      if (Date.now() > until)
        throw new Error(`promotion ${id} is ${res.body?.status}, not ${statuses.join('/')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    // Whatever fails on the way, the pool is closed: a test file that drops its own database
    // afterwards would otherwise terminate idle clients still open here, and their 'error' event
    // would land, unhandled, in whichever test runs next.
    try {
      await this.stack.stop();
      const keys = await this.redis.keys(`${this.prefix}:*`);
      if (keys.length) await this.redis.del(...keys);
    } finally {
      this.redis.disconnect();
      await this.db.end();
    }
  }
}

export const digest = (seed: string | number): string =>
  `sha256:${createHash('sha256').update(String(seed)).digest('hex')}`;
export const artifact = (repo = 'acme/app', seed: string | number = 1): string =>
  `registry.staging.example.com/${repo}@${digest(seed)}`;
