// The built CLI (dist/apps/cli/main.js) as a CI job runs it: obtaining the job's own OIDC token the
// way GitHub Actions and GitLab CI provide one, promoting with --wait to the end against real
// registries, and piped into readers that stop early (`| head -1`).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { pushImage } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { Rig } from '../support/rig';
import { CLI_MAIN, type CliResult, runProcess } from '../support/cli-process';

const ROOT = resolve(__dirname, '../..');

interface ActionStep {
  id?: string;
  env?: Record<string, string>;
  run?: string;
}

/**
 * The `promote` step of action.yml with GitHub's expressions evaluated as the runner would:
 * `inputs.*` from `with` (or the input's default), `github.action_path`, `runner.temp`.
 */
function actionStep(
  withInputs: Record<string, string>,
  temp: string,
): { env: Record<string, string>; run: string } {
  const action = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { required?: boolean; default?: string }>;
    runs: { using: string; steps: ActionStep[] };
  };
  for (const [name, input] of Object.entries(action.inputs)) {
    if (input.required && withInputs[name] === undefined) throw new Error(`input ${name} is required`);
  }
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
      if (expr === 'github.action_path') return ROOT;
      if (expr === 'runner.temp') return temp;
      const input = /^inputs\.(.+)$/.exec(expr)?.[1];
      if (input === undefined || !(input in action.inputs)) throw new Error(`unknown expression ${expr}`);
      return withInputs[input] ?? action.inputs[input].default ?? '';
    });
  const step = action.runs.steps.find((s) => s.id === 'promote')!;
  return {
    env: Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(v)])),
    run: evaluate(step.run!),
  };
}

/** GitHub's runtime token: what the runner hands the job, never an Airlock credential. */
const RUNTIME_TOKEN = `ghs_runtime_${randomBytes(12).toString('hex')}`;

describe('CI integrations', () => {
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  let github: Server;
  let githubUrl: string;
  /** What GitHub's token endpoint was asked: audience, and whether the runtime token came along. */
  const asked: Array<{ audience: string | null; authorized: boolean; apiVersion: string | null }> = [];
  let githubAnswer: 'token' | 'forbidden' = 'token';
  const env = `ci-${randomBytes(3).toString('hex')}`;

  const run = (command: string, args: string[], vars: Record<string, string>): Promise<CliResult> =>
    runProcess(command, args, { AIRLOCK_SERVER: rig.stack.apiUrl, ...vars });

  const airlock = (args: string[], vars: Record<string, string>): Promise<CliResult> =>
    run(process.execPath, [CLI_MAIN, ...args], vars);

  /** `airlock … | <reader>`, exiting with the CLI's own code (bash's PIPESTATUS[0]). */
  const airlockPiped = (args: string[], reader: string, vars: Record<string, string>): Promise<CliResult> =>
    run(
      'bash',
      ['-c', `"$0" "$@" | ${reader}; exit "\${PIPESTATUS[0]}"`, process.execPath, CLI_MAIN, ...args],
      vars,
    );

  /** The variables a GitHub Actions job with `permissions: id-token: write` has. */
  const githubJob = (): Record<string, string> => ({
    GITHUB_ACTIONS: 'true',
    ACTIONS_ID_TOKEN_REQUEST_URL: `${githubUrl}/_apis/distributedtask/oidc/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: RUNTIME_TOKEN,
  });

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first`);
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    rig = await Rig.start({ WORKER_QUEUES: 'checks,promote,maintenance', WORKER_RETRY_DELAY_MS: '100' });

    // GitHub's token endpoint as the runner serves it: GET with the runtime token as a bearer,
    // `audience` in the query, `{ count, value }` back. The tokens come from the development CI
    // issuer (client ci-app, the workload of acme/app), with the audience asked for.
    github = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const authorized = req.headers.authorization === `Bearer ${RUNTIME_TOKEN}`;
      asked.push({
        audience: url.searchParams.get('audience'),
        authorized,
        apiVersion: url.searchParams.get('api-version'),
      });
      if (
        !authorized ||
        githubAnswer === 'forbidden' ||
        url.pathname !== '/_apis/distributedtask/oidc/token'
      ) {
        res.writeHead(authorized ? 403 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable' }));
        return;
      }
      rig
        .token('requester', { fresh: true, resource: url.searchParams.get('audience') ?? undefined })
        .then((value) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ count: 1, value }));
        })
        .catch((e: Error) => {
          res.writeHead(500);
          res.end(e.message);
        });
    });
    await new Promise<void>((ready) => github.listen(0, '127.0.0.1', ready));
    githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;

    await rig.trustChange('POST', '/v1/environments', {
      name: env,
      sources: [{ registry: source.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: target.host, repository: 'prod/{repository}', insecure: true },
    });
    const policy = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 0 } } },
    });
    expect(policy.status).toBe(201);
    const activated = await rig.call(
      'POST',
      `/v1/environments/${env}/policies/${policy.body.version}/activate`,
      { as: 'admin2' },
    );
    expect(activated.status).toBe(200);
  });
  afterAll(async () => {
    await rig?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
    await new Promise((closed) => github?.close(closed));
  });

  it("promote --wait in a GitHub Actions job uses the job's OIDC token and ends promoted", async () => {
    const image = await pushImage(source.host, 'acme/app', 'gh', { layers: 1 });
    asked.length = 0;
    const r = await airlock(
      ['promote', `${source.host}/acme/app:gh`, '--env', env, '--wait', '--timeout', '90s'],
      githubJob(),
    );
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/promotion \S+: promoted/);
    expect(r.stdout).toContain(image.digest);
    // Asked as @actions/core asks, with Airlock's audience; the runtime token never printed.
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked.every((a) => a.authorized && a.audience === 'airlock' && a.apiVersion === '2.0')).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(RUNTIME_TOKEN);

    // The promotion is the workload's: requested by the acme/app CI identity.
    const id = /promotion (\S+): promoted/.exec(r.stdout)![1];
    const shown = await airlock(['promotions', 'get', id, '--output', 'json'], githubJob());
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout);
    expect(detail.requester).toContain('repo:acme/app');
    expect(detail.attestation.reference).toContain('.att');
  });

  it('a GitHub job without id-token: write gets a message saying so, not a stack', async () => {
    githubAnswer = 'forbidden';
    try {
      const r = await airlock(['whoami'], githubJob());
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('id-token: write');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      githubAnswer = 'token';
    }
  });

  it("a GitLab job's id_tokens variable is the token, named by AIRLOCK_ID_TOKEN_VARIABLE", async () => {
    const token = await rig.token('requester', { fresh: true });
    const r = await airlock(['whoami'], {
      GITLAB_CI: 'true',
      AIRLOCK_ID_TOKEN_VARIABLE: 'AIRLOCK_PROD_ID_TOKEN',
      AIRLOCK_PROD_ID_TOKEN: token,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kind\s+ci/);
    expect(r.stdout).not.toContain(token);
  });

  it("action.yml's promote step, run as the runner runs it, promotes and sets the step outputs", async () => {
    const image = await pushImage(source.host, 'acme/app', 'action', { layers: 1 });
    const temp = mkdtempSync(join(tmpdir(), 'airlock-action-'));
    const outputFile = join(temp, 'github-output');
    const step = actionStep(
      {
        server: rig.stack.apiUrl,
        artifact: `${source.host}/acme/app:action`,
        environment: env,
        metadata: 'ticket=OPS-9\ncommit=abc123',
        timeout: '90s',
      },
      temp,
    );
    // The action builds the CLI from its checkout; the test's build (dist/) is that build.
    const r = await run('bash', ['-c', step.run], {
      ...githubJob(),
      ...step.env,
      GITHUB_OUTPUT: outputFile,
      GITHUB_RUN_ID: '4242',
      GITHUB_JOB: 'promote',
      GITHUB_REPOSITORY: 'acme/app',
    });
    expect(r.stderr).toMatch(/airlock: promotion \S+ promoted \(exit 0\)/);
    expect(r.code).toBe(0);
    const outputs = Object.fromEntries(
      readFileSync(outputFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    );
    expect(outputs.status).toBe('promoted');
    expect(outputs.digest).toBe(image.digest);
    const promotion = JSON.parse(readFileSync(join(temp, 'airlock-promotion.json'), 'utf8'));
    expect(promotion.id).toBe(outputs['promotion-id']);
    expect(promotion.metadata).toEqual({ ticket: 'OPS-9', commit: 'abc123' });
    expect(r.stdout + r.stderr).not.toContain(RUNTIME_TOKEN);

    // A re-run of the same job finds the same promotion (its idempotency key is the run's).
    const again = await run('bash', ['-c', step.run], {
      ...githubJob(),
      ...step.env,
      GITHUB_OUTPUT: join(temp, 'again'),
      GITHUB_RUN_ID: '4242',
      GITHUB_JOB: 'promote',
      GITHUB_REPOSITORY: 'acme/app',
    });
    expect(again.code).toBe(0);
    expect(readFileSync(join(temp, 'again'), 'utf8')).toContain(`promotion-id=${promotion.id}`);
  });

  describe('in a pipe that closes early', () => {
    let promotionId: string;

    beforeAll(async () => {
      await pushImage(source.host, 'acme/app', 'pipe', { layers: 1 });
      const res = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: { artifact: `${source.host}/acme/app:pipe`, environment: env },
      });
      expect(res.status).toBe(201);
      promotionId = res.body.id;
      await rig.waitForStatus(promotionId, ['promoted', 'failed', 'rejected'], 60_000);
    });

    it('`promotions get | head -1` exits 0, every time, with no stack trace', async () => {
      const token = { AIRLOCK_TOKEN: await rig.token('auditor') };
      for (let i = 0; i < 10; i++) {
        const r = await airlockPiped(['promotions', 'get', promotionId], 'head -1', token);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(`promotion ${promotionId}: promoted\n`);
      }
    });

    it('a reader that reads nothing still gets the action and its exit code', async () => {
      const token = { AIRLOCK_TOKEN: await rig.token('auditor') };
      const r = await airlockPiped(['promotions', 'list', '--env', env, '--output', 'json'], 'true', token);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('`cancel | head -2` cancels and exits 0; a failing command piped keeps its own code', async () => {
      await rig.environment(`${env}-manual`, { approvals: { required: 1 } });
      const res = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: {
          artifact: `registry.staging.example.com/acme/app@sha256:${'c'.repeat(64)}`,
          environment: `${env}-manual`,
        },
      });
      expect(res.status).toBe(201);
      await rig.waitForStatus(res.body.id, ['awaiting_approval']);
      const admin = { AIRLOCK_TOKEN: await rig.token('admin') };
      const r = await airlockPiped(['cancel', res.body.id, '--reason', 'superseded'], 'head -2', admin);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect((await rig.call('GET', `/v1/promotions/${res.body.id}`, { as: 'auditor' })).body.status).toBe(
        'cancelled',
      );
      const again = await airlockPiped(['cancel', res.body.id, '--reason', 'twice'], 'head -1', admin);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^error: /);
    });
  });
});
