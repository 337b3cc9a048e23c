// The built CLI (dist/apps/cli/main.js, from `npm run build`) run as a child process against a real
// deployment: the way CI pipelines and people use it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { osvZip } from '../support/osv';
import { artifact, Rig } from '../support/rig';
import { CLI_MAIN, type CliResult, runCli } from '../support/cli-process';

describe('airlock CLI', () => {
  let rig: Rig;
  let dir: string;
  const suffix = randomBytes(3).toString('hex');
  const autoEnv = `cli-auto-${suffix}`;
  const manualEnv = `cli-manual-${suffix}`;

  /** Runs the CLI with only the environment given (never the test process's own). */
  function airlock(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, ...env });
  }

  /** CI tokens are single-use per promotion (jti replay protection): a fresh one each time. */
  const ciToken = async (): Promise<Record<string, string>> => ({
    AIRLOCK_TOKEN: await rig.token('requester', { fresh: true }),
  });
  const as = async (name: 'auditor' | 'approver'): Promise<Record<string, string>> => ({
    AIRLOCK_TOKEN: await rig.token(name),
  });

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first`);
    rig = await Rig.start();
    dir = mkdtempSync(join(tmpdir(), 'airlock-cli-e2e-'));
    await rig.environment(autoEnv, { approvals: { required: 0 } });
    await rig.environment(manualEnv, { approvals: { required: 1 } });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('whoami shows the identity and roles of the token from --token-file, and never the token', async () => {
    const token = await rig.token('requester', { fresh: true });
    const file = join(dir, 'ci-token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const r = await airlock(['whoami', '--token-file', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/identity\s+.+@http/);
    expect(r.stdout).toMatch(/kind\s+ci/);
    expect(r.stdout).toContain('requester');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('promote exits 0 once the checks approve it when no approvals are required', async () => {
    // This rig runs no promoter (its registries do not exist): approved is as far as it goes, so
    // promote without --wait, which stops once the automatic checks are over.
    const r = await airlock(
      ['promote', artifact('acme/app', `cli-wait-${suffix}`), '--env', autoEnv, '--timeout', '60s'],
      await ciToken(),
    );
    expect(r.stderr).toContain('status: approved');
    expect(r.code).toBe(0);
    const id = /promotion (\S+): approved/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();

    const get = await airlock(['promotions', 'get', id!, '--json'], await as('auditor'));
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ id, status: 'approved', environment: autoEnv });
    const list = await airlock(
      ['promotions', 'list', '--env', autoEnv, '--all', '--json'],
      await as('auditor'),
    );
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).items.map((p: { id: string }) => p.id)).toContain(id);
  });

  it('promote without --wait exits 0 once the request awaits approval', async () => {
    const r = await airlock(
      [
        'promote',
        artifact('acme/app', `cli-manual-${suffix}`),
        '--env',
        manualEnv,
        '--metadata',
        'ticket=OPS-7',
      ],
      await ciToken(),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/promotion \S+: awaiting_approval/);
    expect(r.stdout).toContain('ticket=OPS-7');
    expect(r.stderr).toContain('airlock approve');
  });

  it('approve sends the reviewed digest: the promotion is approved (or the server says it has no approvals)', async () => {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', `cli-approve-${suffix}`), environment: manualEnv },
    });
    expect(res.status).toBe(201);
    await rig.waitForStatus(res.body.id, ['awaiting_approval']);
    const r = await airlock(['approve', res.body.id, '--comment', 'looks right'], await as('approver'));
    if (r.stderr.includes('does not support approvals yet')) {
      // A server from before the approvals route (POST /v1/promotions/:id/approvals) landed.
      expect(r.code).toBe(1);
      return;
    }
    expect(r.stderr).toContain('approving registry.staging.example.com/acme/app@sha256:');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`promotion ${res.body.id}: approved`);
    expect(r.stdout).toMatch(/approvals:\n\s+approve\s+\S+ at \S+: looks right/);
  });

  it('reject needs a comment and rejects: promote --wait then exits 2', async () => {
    const key = ['--idempotency-key', `cli-reject-${suffix}`, '--timeout', '60s'];
    const requested = await airlock(
      ['promote', artifact('acme/app', `cli-reject-${suffix}`), '--env', manualEnv, '--json', ...key],
      await ciToken(),
    );
    expect(requested.code).toBe(0);
    const { id } = JSON.parse(requested.stdout);
    const approver = await as('approver');
    expect((await airlock(['reject', id], approver)).code).toBe(1);
    const r = await airlock(['reject', id, '--comment', 'wrong build'], approver);
    if (r.stderr.includes('does not support approvals yet')) return;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`promotion ${id}: rejected`);
    // Re-running the same request (same Idempotency-Key, fresh CI token) finds it settled: exit 2.
    const again = await airlock(
      ['promote', artifact('acme/app', `cli-reject-${suffix}`), '--env', manualEnv, '--wait', ...key],
      await ciToken(),
    );
    expect(again.stderr).toContain(`already requested (same Idempotency-Key): promotion ${id}`);
    expect(again.code).toBe(2);
  });

  it('promote of a source the environment does not allow exits 1 with the problem detail', async () => {
    const r = await airlock(
      ['promote', artifact('elsewhere/app', `cli-bad-${suffix}`), '--env', autoEnv, '--wait'],
      await ciToken(),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: registry.staging.example.com/elsewhere/app is not an allowed source for ${autoEnv} (source_not_allowed)`,
    );
    expect(r.stdout).toBe('');
  });

  it('cancel withdraws a promotion awaiting approval', async () => {
    const requested = await airlock(
      ['promote', artifact('acme/app', `cli-cancel-${suffix}`), '--env', manualEnv, '--json'],
      await ciToken(),
    );
    expect(requested.code).toBe(0);
    const { id } = JSON.parse(requested.stdout);
    const r = await airlock(['cancel', id, '--reason', 'superseded'], {
      AIRLOCK_TOKEN: await rig.token('admin'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`promotion ${id}: cancelled`);
  });

  it('advisories import sends a zip as it is, and the same file twice imports once', async () => {
    const file = join(dir, 'osv-all.zip');
    writeFileSync(
      file,
      await osvZip([
        {
          id: `CLI-${Date.now()}`,
          modified: '2026-01-01T00:00:00Z',
          affected: [{ package: { ecosystem: 'npm', name: 'cli-pkg' }, versions: ['1.0.0'] }],
        },
      ]),
    );
    const admin = { AIRLOCK_TOKEN: await rig.token('admin') };
    const first = await airlock(['advisories', 'import', file], admin);
    expect(first).toMatchObject({ code: 0, stdout: expect.stringMatching(/^imported: import #\d+/) });
    expect(first.stdout).toContain('1 documents: 1 added, 0 updated, 0 unchanged');
    const again = await airlock(['advisories', 'import', file, '--json'], admin);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ documents: 1, source: 'application/zip osv-all.zip' });
    const bad = join(dir, 'not-osv.json');
    writeFileSync(bad, JSON.stringify({ hello: 'world' }));
    const refused = await airlock(['advisories', 'import', bad], admin);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not valid OSV/);
  });

  it('policies add and activate take two admins; environments list and get show the result', async () => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ approvals: { required: 2 } }));
    const added = await airlock(
      ['policies', 'add', manualEnv, '--file', file, '--comment', 'two approvers', '--json'],
      {
        AIRLOCK_TOKEN: await rig.token('admin'),
      },
    );
    expect(added.code).toBe(0);
    const { version } = JSON.parse(added.stdout);
    expect(version).toBe(2);

    const same = await airlock(['policies', 'activate', manualEnv, String(version)], {
      AIRLOCK_TOKEN: await rig.token('admin'),
    });
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/^error: .+ \(four_eyes_required\)$/m);

    const other = await airlock(['policies', 'activate', manualEnv, String(version)], {
      AIRLOCK_TOKEN: await rig.token('admin2'),
    });
    expect(other.code).toBe(0);
    expect(other.stdout).toContain(`policy ${manualEnv} v2 (active)`);

    const auditor = await as('auditor');
    const get = await airlock(['environments', 'get', manualEnv], auditor);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/active policy\s+v2/);
    const list = await airlock(['environments', 'list'], auditor);
    expect(list.stdout).toMatch(new RegExp(`^${manualEnv}\\s+v2\\s`, 'm'));
    const policies = await airlock(['policies', 'list', manualEnv, '--json'], auditor);
    expect(
      JSON.parse(policies.stdout)
        .items.map((v: { version: number }) => v.version)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('audit verify (online) exits 0 and prints the head', async () => {
    const r = await airlock(['audit', 'verify'], await as('auditor'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(': OK');
    expect(r.stdout).toMatch(/head\s+seq \d+ hash [0-9a-f]{64}/);
  });

  it('audit checkpoint signs the head now, and audit checkpoints then lists it', async () => {
    const r = await airlock(['audit', 'checkpoint'], await as('auditor'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const seq = /checkpoint at seq (\d+)/.exec(r.stdout)?.[1];
    expect(seq).toBeDefined();
    expect(r.stdout).toMatch(/head\s+[0-9a-f]{64}/);
    const listed = await airlock(['audit', 'checkpoints', '-o', 'json'], await as('auditor'));
    expect(listed.code).toBe(0);
    expect(
      (JSON.parse(listed.stdout) as { items: Array<{ seq: string }> }).items.map((c) => c.seq),
    ).toContain(seq);
    // Not for a requester: the API's 403 with its code.
    const denied = await airlock(['audit', 'checkpoint'], await ciToken());
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: .+ \(forbidden\)/);
  });

  describe('offline verification', () => {
    let exportPath: string;
    let checkpointsPath: string;
    let keyPath: string;

    beforeAll(async () => {
      const cp = await rig.call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      expect(cp.status).toBe(201);
      const auditor = await as('auditor');
      checkpointsPath = join(dir, 'checkpoints.jsonl');
      keyPath = join(dir, 'audit-key.pem');
      exportPath = join(dir, 'export.jsonl');
      // Checkpoints first, then the export: the export then reaches at least every checkpoint.
      const c = await airlock(
        ['audit', 'checkpoints', '--out', checkpointsPath, '--public-key-out', keyPath],
        auditor,
      );
      expect(c.code).toBe(0);
      const e = await airlock(['audit', 'export', '--out', exportPath], auditor);
      expect(e.code).toBe(0);
      expect(e.stderr).toMatch(/wrote \d+ audit events/);
    });

    it('audit export without --out writes the same JSON lines to stdout', async () => {
      const r = await airlock(['audit', 'export'], await as('auditor'));
      expect(r.code).toBe(0);
      const saved = readFileSync(exportPath, 'utf8');
      // The chain only grows: what was exported before is a prefix of what is exported now.
      expect(r.stdout.startsWith(saved)).toBe(true);
    });

    it('exits 0 for the export with its signed checkpoints, with no server and no token', async () => {
      const r = await airlock(
        ['audit', 'verify', '--file', exportPath, '--checkpoints', checkpointsPath, '--public-key', keyPath],
        { AIRLOCK_SERVER: 'http://127.0.0.1:9' },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('OK');
      expect(r.stdout).toMatch(/checkpoints\s+[1-9]\d* matched/);
    });

    it('exits 6 naming the seq of a line whose details were edited', async () => {
      const lines = readFileSync(exportPath, 'utf8').trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(3);
      const victim = Math.floor(lines.length / 2);
      const link = JSON.parse(lines[victim]);
      lines[victim] = JSON.stringify({ ...link, details: { ...link.details, edited: true } });
      const tampered = join(dir, 'tampered.jsonl');
      writeFileSync(tampered, `${lines.join('\n')}\n`);

      const r = await airlock(
        ['audit', 'verify', '--file', tampered, '--checkpoints', checkpointsPath, '--public-key', keyPath],
        {},
      );
      expect(r.code).toBe(6);
      expect(r.stdout).toContain('BROKEN');
      expect(r.stdout).toContain(`first broken link: seq ${link.seq}: hash mismatch`);
    });
  });
});
