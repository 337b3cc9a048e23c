// Know before you ask: a dry run of a request (POST /v1/promotions/evaluate), a proposed policy
// version judged on the environment's past promotions, and the diff a second admin reads before
// activating it. Real registry, real OSV import, the built API and worker, a database of this
// file's own (the dry run is shown to change no table but the audit trail).
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { pushImage } from '../support/oci-images';
import { osvFixtures, osvZip } from '../support/osv';
import { startRegistry, type RegistryHandle } from '../support/registry';
import { Rig } from '../support/rig';
import { addRoleBinding } from '../support/role-bindings';
import { generateTestKeyPair, inTotoStatement } from '../support/sigstore';
import { testEnv } from '../support/test-env';
import {
  insecureSource,
  keyAttestation,
  pushCosignAttestations,
  pushKeySignature,
} from '../support/trust-fixtures';
import { type CliResult, runCli } from '../support/cli-process';

const hex = (): string => randomBytes(3).toString('hex');

describe('evaluations (dry run, proposed policies, diffs)', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const dbName = `airlock_test_evaluations_${hex()}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  let rig: Rig;
  let registry: RegistryHandle;

  beforeAll(async () => {
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    [rig, registry] = await Promise.all([Rig.start({}, { databaseUrl: url }), startRegistry()]);
    const imported = await rig.call('POST', '/v1/advisories/imports', {
      as: 'admin',
      rawBody: await osvZip(osvFixtures()),
      headers: { 'content-type': 'application/zip', 'x-file-name': 'test-osv.zip' },
    });
    expect(imported.status).toBe(201);
    // ivan approves in another environment only.
    await addRoleBinding(rig, {
      role: 'approver',
      issuer: 'people',
      subject: 'ivan',
      environment: 'elsewhere',
    });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([rig?.stop(), registry?.stop()]);
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });

  const signers = { signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] } };
  const vulnerabilities = { scans: { vulnerabilities: { maxSeverity: 'medium' } } };

  /** A signed image (pushed under `tag`) whose signed SBOM lists these package URLs. */
  async function image(purls: string[], tag = `img-${hex()}`): Promise<string> {
    const img = await pushImage(registry.host, REPO, tag);
    await pushKeySignature(registry.host, REPO, img.digest, release);
    const sbom = inTotoStatement(img.digest, 'https://cyclonedx.org/bom', {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: purls.map((purl) => {
        const [, name, version] = /^pkg:[^/]+\/(?:.*\/)?([^@/]+)@([^?]+)/.exec(purl)!;
        return { type: 'library', name, version, purl };
      }),
    });
    await pushCosignAttestations(registry.host, REPO, img.digest, [keyAttestation(sbom, release)]);
    return img.digest;
  }
  const VULNERABLE = ['pkg:pypi/django@4.2.7'];
  const FIXED = ['pkg:pypi/django@4.2.8'];

  /** The built CLI as a child process, with only the server and a token in its environment. */
  function airlock(args: string[], token: string): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, AIRLOCK_TOKEN: token });
  }

  /** Rows of every table but the audit trail's, by table. */
  async function tableCounts(): Promise<Record<string, number>> {
    const tables = await rig.sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
          AND table_name NOT IN ('audit_event', 'audit_pending')`,
    );
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await rig.sql<{ n: string }>(`SELECT count(*)::text AS n FROM "${table_name}"`);
      counts[table_name] = Number(row.n);
    }
    return counts;
  }
  async function auditCount(action: string): Promise<number> {
    const [row] = await rig.sql<{ n: string }>(
      `SELECT ((SELECT count(*) FROM audit_event WHERE action = $1) +
               (SELECT count(*) FROM audit_pending WHERE action = $1))::text AS n`,
      [action],
    );
    return Number(row.n);
  }

  describe('POST /v1/promotions/evaluate', () => {
    const env = `dry-${hex()}`;
    let vulnerableTag: string;
    let fixedDigest: string;

    beforeAll(async () => {
      await rig.environment(
        env,
        { approvals: { required: 1 }, ...signers, ...vulnerabilities },
        insecureSource(registry.host),
      );
      vulnerableTag = `vulnerable-${hex()}`;
      await image(VULNERABLE, vulnerableTag);
      fixedDigest = await image(FIXED);
    }, 60_000);

    it('names the failing check with its findings and the approvals needed, and changes nothing but the audit trail', async () => {
      const before = await tableCounts();
      const audited = await auditCount('promotion.evaluated');
      const res = await rig.call('POST', '/v1/promotions/evaluate', {
        as: 'requester',
        body: { artifact: `${registry.host}/${REPO}:${vulnerableTag}`, environment: env },
      });
      expect(res.status).toBe(200);
      const e = res.body;
      expect(e).toMatchObject({
        environment: env,
        tag: vulnerableTag,
        policyVersion: 1,
        decision: 'rejected',
      });
      expect(e.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(e.checks.map((c: any) => [c.kind, c.status])).toEqual([
        ['signatures', 'pass'],
        ['vulnerabilities', 'fail'],
      ]);
      const vuln = e.checks[1];
      expect(vuln.findings[0]).toMatchObject({
        advisory: 'TEST-PYPI-0001',
        blocking: true,
        fixedIn: '4.2.8',
      });
      expect(vuln.blocking[0]).toMatch(/^TEST-PYPI-0001 \(CVE-2099-0002\) critical/);
      expect(e.reasons).toEqual(
        expect.arrayContaining([expect.stringMatching(/^vulnerabilities: .*1 blocking \(1 critical/)]),
      );
      expect(e.approvals).toMatchObject({
        required: 1,
        rules: [{ name: 'approvals', required: 1, groups: null }],
      });
      expect(e.approvals.approvers.length).toBeGreaterThan(0);
      expect(e.approvals.excluded).toEqual(
        expect.arrayContaining([expect.stringMatching(/\(the requester\)$/)]),
      );
      expect(e.breakGlass).toMatchObject({
        couldApply: false,
        reason: 'break-glass skips approvals, never failing checks',
      });
      expect(e.conditions).toEqual([]);

      // Nothing but one audit event: no promotion, check rows, outbox rows, approvals.
      expect(await tableCounts()).toEqual(before);
      expect(await auditCount('promotion.evaluated')).toBe(audited + 1);
    });

    it('a clean image would wait for one approval, from whom, and break-glass could skip it only where held', async () => {
      const res = await rig.call('POST', '/v1/promotions/evaluate', {
        as: 'requester',
        body: { artifact: `${registry.host}/${REPO}@${fixedDigest}`, environment: env },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        decision: 'awaiting_approval',
        reasons: ['1 approval(s) required'],
        tag: null,
      });
      expect(res.body.checks.every((c: any) => c.status === 'pass')).toBe(true);
      expect(res.body.breakGlass.reason).toMatch(/checks pass|nobody holds break_glass/);
    });

    it('airlock promote --dry-run says the same, and exits 2 for a rejection, 0 otherwise', async () => {
      const before = await tableCounts();
      const token = await rig.token('requester');
      const rejected = await airlock(
        ['promote', `${registry.host}/${REPO}:${vulnerableTag}`, '--env', env, '--dry-run'],
        token,
      );
      expect(rejected.code).toBe(2);
      expect(rejected.stdout).toContain('would be: rejected');
      expect(rejected.stdout).toMatch(/check vulnerabilities: fail/);
      expect(rejected.stdout).toMatch(/TEST-PYPI-0001/);
      expect(rejected.stdout).toContain('approvals needed: 1');
      const clean = await airlock(
        ['promote', `${registry.host}/${REPO}@${fixedDigest}`, '--env', env, '--dry-run', '--json'],
        token,
      );
      expect(clean.code).toBe(0);
      expect(JSON.parse(clean.stdout)).toMatchObject({ decision: 'awaiting_approval' });
      expect(await tableCounts()).toEqual(before);
    });

    it('costs the caller the same authorization as a request, and refuses bad input without a trace', async () => {
      const before = await tableCounts();
      const audited = await auditCount('promotion.evaluated');
      const body = { artifact: `${registry.host}/${REPO}@${fixedDigest}`, environment: env };
      const cases: Array<[string, Parameters<Rig['call']>[2], number]> = [
        ['anonymous', { as: null, body }, 401],
        ['no role', { as: 'noRole', body }, 403],
        ['an approver (not a requester)', { as: 'approver', body }, 403],
        ['a CI job of another repository', { as: 'otherRepo', body }, 403],
        ['no artifact', { as: 'requester', body: { environment: env } }, 400],
        ['a bad reference', { as: 'requester', body: { artifact: 'not a ref', environment: env } }, 400],
        ['an unknown environment', { as: 'requester', body: { ...body, environment: 'nowhere' } }, 404],
        [
          'a source the environment does not allow',
          {
            as: 'requester',
            body: { artifact: `registry.elsewhere.example.com/acme/app@${fixedDigest}`, environment: env },
          },
          422,
        ],
        [
          'an unknown tag',
          { as: 'requester', body: { ...body, artifact: `${registry.host}/${REPO}:missing` } },
          422,
        ],
      ];
      for (const [what, options, status] of cases) {
        const res = await rig.call('POST', '/v1/promotions/evaluate', options);
        expect(`${what}: ${res.status}`).toBe(`${what}: ${status}`);
      }
      expect(await tableCounts()).toEqual(before);
      expect(await auditCount('promotion.evaluated')).toBe(audited);
    });
  });

  describe('a proposed policy version judged before activation', () => {
    const env = `replay-${hex()}`;
    const vulnerable: string[] = [];

    beforeAll(async () => {
      // v1 (active): signatures only, one approval. Three requests wait for their approval.
      await rig.environment(env, { approvals: { required: 1 }, ...signers }, insecureSource(registry.host));
      const digests = [await image(VULNERABLE), await image(FIXED), await image(VULNERABLE)];
      vulnerable.push(digests[0], digests[2]);
      for (const digest of digests) {
        const res = await rig.call('POST', '/v1/promotions', {
          token: await rig.token('requester', { fresh: true }),
          body: { artifact: `${registry.host}/${REPO}@${digest}`, environment: env },
        });
        expect(res.status).toBe(201);
        await rig.waitForStatus(res.body.id, ['awaiting_approval'], 30_000);
      }
      // v2 (proposed, not active): the same, and no vulnerability above medium.
      const v2 = await rig.call('POST', `/v1/environments/${env}/policies`, {
        as: 'admin',
        body: {
          document: { approvals: { required: 1 }, ...signers, ...vulnerabilities },
          comment: 'stricter',
        },
      });
      expect(v2.status).toBe(201);
    }, 120_000);

    it('would have rejected 2 of the last 3, reusing the stored signature results', async () => {
      const audited = await auditCount('policy.evaluated');
      const res = await rig.call('POST', `/v1/environments/${env}/policies/2/evaluate`, {
        as: 'approver',
        body: { lastN: 50 },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        environment: env,
        policyVersion: 2,
        evaluated: 3,
        wouldReject: 2,
        newlyRejected: 2,
        wouldAwaitApproval: 1,
        undetermined: 0,
        summary: 'this version would have rejected 2 of the last 3 (2 not rejected then)',
      });
      const rejected = res.body.promotions.filter((p: any) => p.verdict === 'rejected');
      expect(rejected.map((p: any) => p.artifact.split('@')[1]).sort()).toEqual([...vulnerable].sort());
      expect(rejected[0]).toMatchObject({ status: 'awaiting_approval', policyVersion: 1 });
      expect(rejected[0].checks.find((c: any) => c.kind === 'vulnerabilities')).toMatchObject({
        status: 'fail',
      });
      // The active version judges them as they were judged: from the stored results alone.
      const same = await rig.call('POST', `/v1/environments/${env}/policies/1/evaluate`, {
        as: 'admin',
        body: { lastN: 2 },
      });
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ evaluated: 2, wouldReject: 0, wouldAwaitApproval: 2 });
      expect(same.body.promotions[0].checks).toEqual([
        expect.objectContaining({ kind: 'signatures', source: 'stored' }),
      ]);
      expect(await auditCount('policy.evaluated')).toBe(audited + 2);
    });

    it('judges one digest the environment has seen', async () => {
      const res = await rig.call('POST', `/v1/environments/${env}/policies/2/evaluate`, {
        as: 'admin',
        body: { digest: vulnerable[0] },
      });
      expect(res.status).toBe(200);
      expect(res.body.evaluation).toMatchObject({
        decision: 'rejected',
        digest: vulnerable[0],
        policyVersion: 2,
      });
      expect(res.body.summary).toMatch(/^this version would answer rejected for /);
    });

    it('needs an admin or approver of the environment and refuses bad input', async () => {
      const audited = await auditCount('policy.evaluated');
      const path = `/v1/environments/${env}/policies/2/evaluate`;
      const cases: Array<[string, string, Parameters<Rig['call']>[2], number]> = [
        ['anonymous', path, { as: null, body: { lastN: 5 } }, 401],
        ['a requester', path, { as: 'requester', body: { lastN: 5 } }, 403],
        ['an auditor', path, { as: 'auditor', body: { lastN: 5 } }, 403],
        ["another environment's approver", path, { as: 'scopedApprover', body: { lastN: 5 } }, 403],
        ['nothing to judge', path, { as: 'admin', body: {} }, 400],
        ['two things to judge', path, { as: 'admin', body: { lastN: 5, digest: vulnerable[0] } }, 400],
        ['lastN 0', path, { as: 'admin', body: { lastN: 0 } }, 400],
        ['lastN 101', path, { as: 'admin', body: { lastN: 101 } }, 400],
        ['not a digest', path, { as: 'admin', body: { digest: 'sha256:xyz' } }, 400],
        [
          'a digest never promoted here',
          path,
          { as: 'admin', body: { digest: `sha256:${'0'.repeat(64)}` } },
          404,
        ],
        [
          'an unknown version',
          `/v1/environments/${env}/policies/99/evaluate`,
          { as: 'admin', body: { lastN: 5 } },
          404,
        ],
        [
          'an unknown environment',
          '/v1/environments/nowhere/policies/1/evaluate',
          { as: 'admin', body: { lastN: 5 } },
          404,
        ],
        [
          'a bad version',
          `/v1/environments/${env}/policies/x/evaluate`,
          { as: 'admin', body: { lastN: 5 } },
          400,
        ],
      ];
      for (const [what, p, options, status] of cases) {
        const res = await rig.call('POST', p, options);
        expect(`${what}: ${res.status}`).toBe(`${what}: ${status}`);
      }
      expect(await auditCount('policy.evaluated')).toBe(audited);
    });

    it('shows what changed per section, to anyone who reads policies and before activation', async () => {
      const res = await rig.call('GET', `/v1/environments/${env}/policies/1/diff/2`, { as: 'admin2' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        environment: env,
        from: 1,
        to: 2,
        toActive: false,
        sections: [
          {
            section: 'scans.vulnerabilities',
            change: 'added',
            lines: ['scans.vulnerabilities: added {"maxSeverity":"medium"}'],
          },
        ],
      });
      const back = await rig.call('GET', `/v1/environments/${env}/policies/2/diff/1`, { as: 'auditor' });
      expect(back.body.sections[0]).toMatchObject({ change: 'removed' });
      const same = await rig.call('GET', `/v1/environments/${env}/policies/2/diff/2`, { as: 'auditor' });
      expect(same.body.sections).toEqual([]);
      // The version as the second admin opens it before activating: its changes from the active one.
      const v2 = await rig.call('GET', `/v1/environments/${env}/policies/2`, { as: 'admin2' });
      expect(v2.body.changesFromActive).toEqual(res.body.sections);

      const cli = await airlock(['policies', 'diff', env, '1', '2'], await rig.token('auditor'));
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain('scans.vulnerabilities (added):');
      const evaluated = await airlock(
        ['policies', 'evaluate', env, '2', '--last', '50'],
        await rig.token('approver'),
      );
      expect(evaluated.code).toBe(0);
      expect(evaluated.stdout).toContain('this version would have rejected 2 of the last 3');

      for (const [what, p, as, status] of [
        ['anonymous', `/v1/environments/${env}/policies/1/diff/2`, null, 401],
        ['no role', `/v1/environments/${env}/policies/1/diff/2`, 'noRole', 403],
        ['an unknown version', `/v1/environments/${env}/policies/1/diff/9`, 'admin', 404],
        ['a bad version', `/v1/environments/${env}/policies/1/diff/0`, 'admin', 400],
        ['an unknown environment', '/v1/environments/nowhere/policies/1/diff/2', 'admin', 404],
      ] as const) {
        const r = await rig.call('GET', p, { as });
        expect(`${what}: ${r.status}`).toBe(`${what}: ${status}`);
      }
    });
  });
});
