import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './cli';

// run() against a scripted fake of the API: argument handling, exit codes and output, no server.

type Reply = { status: number; body?: unknown; type?: string };
type Handler = (req: { body: unknown; url: URL; headers: Record<string, string> }) => Reply;

interface Sent {
  method: string;
  path: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

const TOKEN = 'eyJ.test-token.sig';
const ID = '7b0c0e0e-1111-4222-8333-944445555666';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const ARTIFACT = `registry.staging.example.com/acme/app@${DIGEST}`;

const promotion = (status: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: ID,
  status,
  artifact: ARTIFACT,
  digest: DIGEST,
  environment: 'production',
  target: `registry.prod.example.com/prod/acme/app@${DIGEST}`,
  policyVersion: 1,
  policySha256: 'b'.repeat(64),
  requester: 'repo:acme/app@https://ci',
  metadata: {},
  reasons: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  checks: [],
  approvals: [],
  history: [],
  ...extra,
});

const problem = (
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): Reply => ({
  status,
  type: 'application/problem+json',
  body: { type: `https://airlock.dev/problems/${code}`, title: 'x', status, code, detail, ...extra },
});

function fakeApi(routes: Record<string, Handler | Reply[]>): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = async (input: URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input);
    const method = init.method ?? 'GET';
    const headers = init.headers as Record<string, string>;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    sent.push({ method, path: url.pathname, url, headers, body });
    const route = routes[`${method} ${url.pathname}`];
    if (!route) {
      const r = problem(404, 'not_found', `no route ${method} ${url.pathname}`);
      return new Response(JSON.stringify(r.body), { status: 404, headers: { 'content-type': r.type! } });
    }
    const reply = Array.isArray(route)
      ? route.length > 1
        ? route.shift()!
        : route[0]
      : route({ body, url, headers });
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': reply.type ?? 'application/json' },
    });
  };
  return { fetch: fake as unknown as typeof fetch, sent };
}

async function cli(
  argv: string[],
  api: { fetch: typeof fetch },
  env: Record<string, string> = { AIRLOCK_TOKEN: TOKEN },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let t = 0;
  const writer = (append: (s: string) => void) => ({
    write: (chunk: string | Uint8Array, cb?: () => void) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      cb?.();
      return true;
    },
  });
  const code = await run({
    argv,
    env: { AIRLOCK_SERVER: 'http://airlock.test', ...env },
    stdout: writer((s) => (stdout += s)),
    stderr: writer((s) => (stderr += s)),
    fetch: api.fetch,
    sleep: async (ms) => {
      t += ms;
    },
    now: () => t,
    randomId: () => 'fixed-id',
  });
  return { code, stdout, stderr };
}

const promoteArgs = [ARTIFACT, '--env', 'production'];

describe('airlock promote', () => {
  it('without --wait, waits for the checks and exits 0 awaiting approval', async () => {
    const api = fakeApi({
      'POST /v1/promotions': [{ status: 201, body: promotion('received') }],
      [`GET /v1/promotions/${ID}`]: [
        { status: 200, body: promotion('checking') },
        { status: 200, body: promotion('awaiting_approval') },
      ],
    });
    const r = await cli(['promote', ...promoteArgs, '--metadata', 'ticket=OPS-1'], api);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`promotion ${ID}: awaiting_approval`);
    expect(r.stderr).toContain(`airlock approve ${ID}`);
    const post = api.sent[0];
    expect(post.headers['idempotency-key']).toBe('airlock-cli-fixed-id');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(post.body).toEqual({
      artifact: ARTIFACT,
      environment: 'production',
      metadata: { ticket: 'OPS-1' },
    });
  });

  it('--detach returns at once with the request received', async () => {
    const api = fakeApi({ 'POST /v1/promotions': [{ status: 201, body: promotion('received') }] });
    const r = await cli(['promote', ...promoteArgs, '--detach'], api);
    expect(r.code).toBe(0);
    expect(api.sent).toHaveLength(1);
  });

  it.each([
    ['promoted', 0],
    ['rejected', 2],
    ['expired', 3],
    ['cancelled', 3],
    ['failed', 4],
  ])('--wait ending %s exits %d', async (status, code) => {
    const api = fakeApi({
      'POST /v1/promotions': [{ status: 201, body: promotion('received') }],
      [`GET /v1/promotions/${ID}`]: [
        { status: 200, body: promotion('awaiting_approval') },
        { status: 200, body: promotion(status, { reasons: ['a reason'] }) },
      ],
    });
    const r = await cli(['promote', ...promoteArgs, '--wait'], api);
    expect(r.code).toBe(code);
    expect(r.stdout).toContain(`: ${status}`);
    expect(r.stdout).toContain('a reason');
  });

  it('promote says what a waiting promotion waits for, and promotions get --wait follows it to the end', async () => {
    const waiting = promotion('waiting', { waitingFor: 'soak', waitingUntil: '2026-01-02T00:00:00.000Z' });
    const api = fakeApi({
      'POST /v1/promotions': [{ status: 201, body: promotion('received') }],
      [`GET /v1/promotions/${ID}`]: [
        { status: 200, body: waiting },
        { status: 200, body: waiting },
        { status: 200, body: waiting },
        { status: 200, body: promotion('promoted') },
      ],
    });
    const r = await cli(['promote', ...promoteArgs], api);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('waiting for  soak until 2026-01-02T00:00:00.000Z');
    expect(r.stderr).toContain(
      'waiting for the soak until 2026-01-02T00:00:00.000Z, then it moves on by itself',
    );
    const got = await cli(['promotions', 'get', ID, '--wait'], api);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain(`promotion ${ID}: promoted`);
  });

  it('--wait exits 5 when the timeout passes first', async () => {
    const api = fakeApi({
      'POST /v1/promotions': [{ status: 201, body: promotion('received') }],
      [`GET /v1/promotions/${ID}`]: [{ status: 200, body: promotion('awaiting_approval') }],
    });
    const r = await cli(['promote', ...promoteArgs, '--wait', '--timeout', '2m'], api);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('timed out after 2m: still awaiting_approval');
  });

  it('retries a dropped request with the same Idempotency-Key', async () => {
    const api = fakeApi({
      'POST /v1/promotions': [
        problem(503, 'http_503', 'unavailable'),
        { status: 200, body: promotion('approved') },
      ],
    });
    const r = await cli(['promote', ...promoteArgs, '--idempotency-key', 'build-42'], api);
    expect(r.code).toBe(0);
    const keys = api.sent.filter((s) => s.method === 'POST').map((s) => s.headers['idempotency-key']);
    expect(keys).toEqual(['build-42', 'build-42']);
    expect(r.stderr).toContain('already requested');
  });

  it('prints the problem and exits 1 when the request is refused', async () => {
    const api = fakeApi({
      'POST /v1/promotions': [
        problem(422, 'source_not_allowed', 'evil.example/x is not an allowed source for production'),
      ],
    });
    const r = await cli(['promote', ...promoteArgs], api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: evil.example/x is not an allowed source for production (source_not_allowed)',
    );
  });

  it('lists field errors', async () => {
    const api = fakeApi({
      'POST /v1/promotions': [
        problem(400, 'validation_failed', 'invalid request', {
          errors: [{ field: 'artifact', message: 'must be pinned by digest' }],
        }),
      ],
    });
    const r = await cli(['promote', ...promoteArgs], api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: invalid request (validation_failed)\n  - artifact: must be pinned by digest',
    );
  });

  it('--json prints only the final promotion on stdout', async () => {
    const api = fakeApi({ 'POST /v1/promotions': [{ status: 201, body: promotion('approved') }] });
    const r = await cli(['--json', 'promote', ...promoteArgs], api);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: ID, status: 'approved' });
    expect(r.stderr).toBe('');
  });

  it('needs --env, an artifact, and a token', async () => {
    const api = fakeApi({});
    expect((await cli(['promote', ARTIFACT], api)).stderr).toContain('--env is required');
    expect((await cli(['promote', '--env', 'x'], api)).stderr).toContain('expected <artifact>');
    const none = await cli(['promote', ...promoteArgs], api, {});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no token');
    expect(api.sent).toHaveLength(0);
  });

  it('never prints the token, even when the server echoes it', async () => {
    const api = fakeApi({
      'GET /v1/whoami': [problem(401, 'unauthenticated', `the bearer token ${TOKEN} was refused`)],
    });
    const r = await cli(['whoami', '--token', TOKEN, '--json'], api, {});
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).not.toContain(TOKEN);
    expect(r.stderr).toContain('[redacted]');
  });

  it('never prints a token read from a file either', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'airlock-cli-')), 'token');
    writeFileSync(file, 'file-token-value\n');
    const api = fakeApi({
      'GET /v1/whoami': [problem(401, 'unauthenticated', 'file-token-value was refused')],
    });
    const r = await cli(['whoami', '--token-file', file], api, {});
    expect(r.code).toBe(1);
    expect(api.sent[0].headers.authorization).toBe('Bearer file-token-value');
    expect(r.stderr).not.toContain('file-token-value');
  });
});

describe('airlock approve / reject', () => {
  it('sends the decision bound to the digest read from the promotion', async () => {
    const api = fakeApi({
      [`GET /v1/promotions/${ID}`]: [{ status: 200, body: promotion('awaiting_approval') }],
      [`POST /v1/promotions/${ID}/approvals`]: [{ status: 201, body: {} }],
    });
    const r = await cli(['reject', ID, '--comment', 'not today'], api);
    expect(r.code).toBe(0);
    expect(api.sent[1].body).toEqual({ decision: 'reject', comment: 'not today', digest: DIGEST });
  });

  it('says so when the server has no approvals route yet', async () => {
    const api = fakeApi({
      [`GET /v1/promotions/${ID}`]: [{ status: 200, body: promotion('awaiting_approval') }],
    });
    const r = await cli(['approve', ID, '--comment', 'ok'], api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not support approvals yet');
  });

  it('requires a comment to reject, not to approve', async () => {
    const r = await cli(['reject', ID], fakeApi({}));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--comment is required');
    const api = fakeApi({
      [`GET /v1/promotions/${ID}`]: [
        { status: 200, body: promotion('awaiting_approval') },
        { status: 200, body: promotion('approved') },
      ],
      [`POST /v1/promotions/${ID}/approvals`]: [
        {
          status: 201,
          body: { decision: 'approve', status: 'approved', tally: { satisfied: true, missing: {} } },
        },
      ],
    });
    const ok = await cli(['approve', ID], api);
    expect(ok.code).toBe(0);
    expect(api.sent[1].body).toEqual({ decision: 'approve', digest: DIGEST });
    expect(ok.stdout).toContain(`promotion ${ID}: approved`);
  });

  it('prints a refusal with its code', async () => {
    const api = fakeApi({
      [`GET /v1/promotions/${ID}`]: [{ status: 200, body: promotion('awaiting_approval') }],
      [`POST /v1/promotions/${ID}/approvals`]: [
        problem(403, 'self_approval', 'you requested this promotion and cannot approve it'),
      ],
    });
    const r = await cli(['approve', ID, '--comment', 'me'], api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: you requested this promotion and cannot approve it (self_approval)');
  });
});

describe('airlock promotions list', () => {
  it('follows nextCursor with --all and passes the filters', async () => {
    const api = fakeApi({
      'GET /v1/promotions': ({ url }) =>
        url.searchParams.get('cursor') === null
          ? { status: 200, body: { items: [promotion('approved')], nextCursor: 'c1' } }
          : { status: 200, body: { items: [promotion('rejected')], nextCursor: null } },
    });
    const r = await cli(['promotions', 'list', '--all', '--status', 'approved', '--env', 'production'], api);
    expect(r.code).toBe(0);
    expect(api.sent.map((s) => s.url.searchParams.get('cursor'))).toEqual([null, 'c1']);
    expect(api.sent[0].url.searchParams.get('environment')).toBe('production');
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('without --all, shows one page and the cursor for more', async () => {
    const api = fakeApi({
      'GET /v1/promotions': [{ status: 200, body: { items: [promotion('approved')], nextCursor: 'c1' } }],
    });
    const r = await cli(['promotions', 'list', '--limit', '1'], api);
    expect(api.sent).toHaveLength(1);
    expect(r.stderr).toContain('--cursor c1');
  });
});

describe('help and usage', () => {
  it('prints help for the CLI, a group and a command', async () => {
    const api = fakeApi({});
    const all = await cli(['--help'], api);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('promotions list');
    const group = await cli(['audit', '--help'], api);
    expect(group.stdout).toContain('audit verify');
    expect(group.stdout).not.toContain('promote ');
    const one = await cli(['help', 'audit', 'verify'], api);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('--public-key <key.pem>');
  });

  it('exits 1 on an unknown command or a bare group', async () => {
    const api = fakeApi({});
    expect((await cli(['frobnicate'], api)).code).toBe(1);
    const bare = await cli(['promotions'], api);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('promotions get');
    expect((await cli([], api)).code).toBe(1);
  });
});

describe('airlock rollback and airlock history', () => {
  const OLD = '11111111-1111-4111-8111-111111111111';
  const CURRENT = '22222222-2222-4222-8222-222222222222';
  const rollback = (status: string) =>
    promotion(status, { kind: 'rollback', rollback: { fromPromotionId: CURRENT, toPromotionId: OLD } });

  it('posts the rollback (to: previous by default), waits for the outcome with --wait, and says it is one', async () => {
    const api = fakeApi({
      'POST /v1/environments/production/rollback': [{ status: 201, body: rollback('received') }],
      [`GET /v1/promotions/${ID}`]: [
        { status: 200, body: rollback('awaiting_approval') },
        { status: 200, body: rollback('promoted') },
      ],
    });
    const r = await cli(
      [
        'rollback',
        'production',
        '--repository',
        'prod/acme/app',
        '--tag',
        'stable',
        '--reason',
        'B is broken',
        '--wait',
      ],
      api,
    );
    expect(r.code).toBe(0);
    expect(api.sent[0].body).toEqual({
      repository: 'prod/acme/app',
      tag: 'stable',
      to: 'previous',
      reason: 'B is broken',
    });
    expect(r.stdout).toContain(`rollback ${ID}: promoted`);
    expect(r.stdout).toMatch(new RegExp(`rolls back\\s+promotion ${CURRENT}`));
    expect(r.stdout).toMatch(new RegExp(`restores\\s+promotion ${OLD}`));
  });

  it('needs --repository and --tag; a refusal is exit 1 with its code', async () => {
    const api = fakeApi({
      'POST /v1/environments/production/rollback': [
        problem(422, 'rollback_target_unknown', 'Airlock never promoted it there'),
      ],
    });
    expect((await cli(['rollback', 'production', '--tag', 'stable'], api)).stderr).toContain(
      '--repository and --tag are required',
    );
    const r = await cli(
      ['rollback', 'production', '--repository', 'prod/acme/app', '--tag', 'stable', '--to', DIGEST],
      api,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Airlock never promoted it there');
    expect(api.sent.at(-1)?.body).toMatchObject({ to: DIGEST });
  });

  it('history lists the tag writes with the current one marked', async () => {
    const entry = (digest: string, kind: string, current: boolean) => ({
      repository: 'prod/acme/app',
      tag: 'stable',
      digest,
      promotionId: ID,
      kind,
      requester: 'repo:acme/app@https://ci',
      promotedAt: '2026-01-02T00:00:00.000Z',
      current,
      rollbackFromPromotionId: null,
      rollbackToPromotionId: null,
    });
    const api = fakeApi({
      'GET /v1/environments/production/history': [
        {
          status: 200,
          body: { items: [entry(DIGEST, 'rollback', true), entry(DIGEST, 'promotion', false)] },
        },
      ],
    });
    const r = await cli(['history', 'production', '--tag', 'stable'], api);
    expect(r.code).toBe(0);
    expect(api.sent[0].url.searchParams.get('tag')).toBe('stable');
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/prod\/acme\/app:stable .*rollback .*current/);
  });
});
