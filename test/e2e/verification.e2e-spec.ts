import { randomBytes } from 'node:crypto';

import { pushImage } from '../support/oci-images';
import {
  type RegistryHandle,
  type RegistryProxy,
  startRegistry,
  startRegistryProxy,
} from '../support/registry';
import { addRoleBinding, removeRoleBinding } from '../support/role-bindings';
import { Rig } from '../support/rig';
import { generateTestKeyPair, inTotoStatement } from '../support/sigstore';
import { keyAttestation, pushCosignAttestations, pushKeySignature } from '../support/trust-fixtures';
import { type CliResult, runCli } from '../support/cli-process';

/**
 * Continuous verification end to end: an image with a signed SBOM is promoted, then an OSV
 * advisory imported afterwards is found to affect the promoted digest, from the SBOM packages
 * stored at check time, without a single request to either registry; a later import that does not
 * touch it changes nothing, one that withdraws the advisory resolves it, and activating a stricter
 * policy re-judges what the environment holds.
 */
describe('continuous verification', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const uid = (): string => randomBytes(3).toString('hex');
  const CRITICAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';

  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  let sourceProxy: RegistryProxy;
  let targetProxy: RegistryProxy;
  const bindings: string[] = [];

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    // Airlock reaches both registries through proxies that count its requests.
    [sourceProxy, targetProxy] = await Promise.all([
      startRegistryProxy(source.host),
      startRegistryProxy(target.host),
    ]);
    rig = await Rig.start({
      WORKER_QUEUES: 'checks,promote,maintenance',
      WORKER_RETRY_DELAY_MS: '200',
      // Maintenance rounds often, so a run whose job was lost is found quickly.
      RECONCILE_INTERVAL_MS: '500',
    });
    // The vulnerability check refuses to match against an empty database.
    await importAdvisories([advisory(`AIRLOCK-VERIF-SEED-${uid()}`, `seed-${uid()}`, '1.0.0')]);
  }, 120_000);

  afterAll(async () => {
    for (const id of bindings) await removeRoleBinding(rig, id).catch(() => undefined);
    await rig?.stop();
    await Promise.all([sourceProxy?.stop(), targetProxy?.stop()]);
    await Promise.all([source?.stop(), target?.stop()]);
  });

  function advisory(
    id: string,
    pkg: string,
    fixed: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return {
      schema_version: '1.6.0',
      id,
      modified: new Date().toISOString(),
      summary: `${pkg} does something bad`,
      severity: [{ type: 'CVSS_V3', score: CRITICAL }],
      affected: [
        {
          package: { ecosystem: 'npm', name: pkg },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }],
        },
      ],
      ...extra,
    };
  }

  async function importAdvisories(docs: Record<string, unknown>[]): Promise<string> {
    const res = await rig.call('POST', '/v1/advisories/imports', { as: 'admin', body: docs });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const policy = (extra: Record<string, unknown> = {}) => ({
    approvals: { required: 0 },
    signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] },
    scans: { vulnerabilities: { maxSeverity: 'high' }, licenses: { allow: ['MIT', 'Apache-2.0'] } },
    ...extra,
  });

  async function environment(): Promise<string> {
    const name = `verif-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: [{ registry: sourceProxy.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: targetProxy.host, repository: `${name}/{repository}`, insecure: true },
    });
    await addPolicy(name, policy(), true);
    return name;
  }

  async function addPolicy(
    env: string,
    document: Record<string, unknown>,
    activate: boolean,
  ): Promise<number> {
    const v = await rig.call('POST', `/v1/environments/${env}/policies`, { as: 'admin', body: { document } });
    expect(v.status).toBe(201);
    if (activate) {
      const a = await rig.call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
        as: 'admin2',
      });
      expect(a.status).toBe(200);
    }
    return v.body.version as number;
  }

  /** A signed image whose signed CycloneDX SBOM lists `pkg@version` (MIT), promoted to `env`. */
  async function promoted(
    env: string,
    pkg: string,
    version: string,
  ): Promise<{ id: string; digest: string }> {
    const img = await pushImage(source.host, REPO, `v-${uid()}`, { layers: 1, layerSize: 2048 });
    await pushKeySignature(source.host, REPO, img.digest, release, {
      reference: `${sourceProxy.host}/${REPO}`,
    });
    const sbom = inTotoStatement(img.digest, 'https://cyclonedx.org/bom', {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        {
          type: 'library',
          name: pkg,
          version,
          purl: `pkg:npm/${pkg}@${version}`,
          licenses: [{ expression: 'MIT' }],
        },
      ],
    });
    await pushCosignAttestations(source.host, REPO, img.digest, [keyAttestation(sbom, release)]);
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${sourceProxy.host}/${REPO}@${img.digest}`, environment: env },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 60_000);
    if (done.status !== 'promoted')
      throw new Error(`promotion ${done.status}: ${JSON.stringify(done.reasons)}`);
    return { id: res.body.id, digest: img.digest };
  }

  /** Waits until the run a trigger queued has finished, and returns it. */
  async function finishedRun(where: string, params: unknown[]): Promise<any> {
    const until = Date.now() + 60_000;
    for (;;) {
      const rows = await rig.sql(`SELECT * FROM verification_run WHERE ${where}`, params);
      if (rows[0] && !['queued', 'running'].includes(rows[0].status)) return rows[0];
      if (Date.now() > until)
        throw new Error(`verification run ${where} ${JSON.stringify(params)}: ${rows[0]?.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const view = async (env: string): Promise<any> => {
    const res = await rig.call('GET', `/v1/environments/${env}/verification`, { as: 'auditor' });
    expect(res.status).toBe(200);
    return res.body;
  };

  /** The built CLI (`npm run build`), run as a child process with only the environment given. */
  function airlock(args: string[], token: string): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, AIRLOCK_TOKEN: token });
  }

  const registryRequests = (): number => sourceProxy.requests.length + targetProxy.requests.length;

  it('finds an advisory imported after a promotion in the promoted digest, without reading a registry', async () => {
    const env = await environment();
    // A webhook subscriber (nothing receives here: the event and its delivery are checked).
    const hook = await rig.call('POST', '/v1/webhooks', {
      as: 'admin',
      body: {
        url: 'http://127.0.0.1:9/verification',
        eventTypes: ['verification.affected'],
        environments: [env],
      },
    });
    expect(hook.status).toBe(201);
    const pkg = `verif-lib-${uid()}`;
    const p = await promoted(env, pkg, '1.2.3');
    // The evidence was stored when the checks read the SBOM.
    const evidence = await rig.sql(
      'SELECT name, version, ecosystem, package_name, license FROM promotion_package WHERE promotion_id = $1',
      [p.id],
    );
    expect(evidence).toEqual([
      { name: pkg, version: '1.2.3', ecosystem: 'npm', package_name: pkg, license: 'MIT' },
    ]);
    expect((await view(env)).findings).toEqual([]);

    const before = registryRequests();
    const ghsa = `GHSA-${uid()}-${uid()}`;
    const importId = await importAdvisories([advisory(ghsa, pkg, '1.2.4')]);
    const run = await finishedRun('import_id = $1', [importId]);
    expect(run.status).toBe('completed');
    expect(run.summary).toContain(`1 digest in ${env} is now affected by ${ghsa}, 1 has a fixed version`);
    expect(registryRequests()).toBe(before);

    const v = await view(env);
    expect(v).toMatchObject({ environment: env, affectedDigests: 1, blockingDigests: 1 });
    expect(v.findings).toEqual([
      expect.objectContaining({
        kind: 'vulnerability',
        subject: ghsa,
        promotionId: p.id,
        digest: p.digest,
        package: `pkg:npm/${pkg}@1.2.3`,
        severity: 'critical',
        fixedIn: '1.2.4',
        blocking: true,
      }),
    ]);
    expect(v.runs[0]).toMatchObject({ id: run.id, trigger: 'advisories', importId, status: 'completed' });
    const cli = await airlock(['verification', 'show', env], await rig.token('auditor'));
    expect(cli.code).toBe(2); // a finding the policy would block
    expect(cli.stdout).toContain(`BLOCKING ${ghsa} critical pkg:npm/${pkg}@1.2.3`);

    // Audited per environment (the event a notifier follows), and in /metrics.
    const events = await rig.sql(
      `SELECT details FROM (SELECT action, subject_id, details FROM audit_event UNION ALL
                            SELECT action, subject_id, details FROM audit_pending) a
       WHERE action = 'verification.affected' AND subject_id = $1`,
      [env],
    );
    expect(events).toHaveLength(1);
    // …and the webhook event of it, with a delivery to the subscriber.
    const raised = await rig.sql<{ deliveries: string; advisory: string }>(
      `SELECT count(d.id)::text AS deliveries, e.facts->'details'->'advisories'->0->>'advisory' AS advisory
       FROM webhook_event e LEFT JOIN webhook_delivery d ON d.event_id = e.id AND d.subscription_id = $2
       WHERE e.type = 'verification.affected' AND e.environment = $1 GROUP BY e.id`,
      [env, hook.body.id],
    );
    expect(raised).toEqual([{ deliveries: '1', advisory: ghsa }]);
    expect(events[0].details.advisories).toEqual([
      {
        advisory: ghsa,
        severity: 'critical',
        digests: 1,
        fixable: 1,
        blocking: 1,
        line: `1 digest in ${env} is now affected by ${ghsa}, 1 has a fixed version`,
      },
    ]);
    const metrics = await rig.call('GET', '/metrics');
    expect(metrics.body).toContain(
      `airlock_verification_findings{environment="${env}",kind="vulnerability",blocking="true"} 1`,
    );

    // Incremental: an import that changes nothing this digest carries matches nothing and keeps
    // the finding open.
    const unrelated = await importAdvisories([advisory(`GHSA-${uid()}-other`, `other-${uid()}`, '2.0.0')]);
    const quiet = await finishedRun('import_id = $1', [unrelated]);
    expect(quiet.counts).toMatchObject({ changedAdvisories: 1, packagesMatched: 0, newFindings: 0 });
    expect((await view(env)).findings).toHaveLength(1);

    // The same advisory, withdrawn: resolved.
    const withdrawn = await importAdvisories([
      advisory(ghsa, pkg, '1.2.4', {
        withdrawn: new Date().toISOString(),
        modified: new Date(Date.now() + 1000).toISOString(),
      }),
    ]);
    await finishedRun('import_id = $1', [withdrawn]);
    expect(await view(env)).toMatchObject({ affectedDigests: 0, findings: [] });
    expect(registryRequests()).toBe(before);
  });

  it('re-judges what the environment holds when a stricter policy is activated', async () => {
    const env = await environment();
    const pkg = `verif-lic-${uid()}`;
    const p = await promoted(env, pkg, '3.0.0');
    const before = registryRequests();
    // MIT is no longer allowed.
    const version = await addPolicy(env, policy({ scans: { licenses: { allow: ['Apache-2.0'] } } }), true);
    const { id: environmentId } = (await rig.call('GET', `/v1/environments/${env}`, { as: 'admin' })).body;
    const run = await finishedRun('environment_id = $1 AND policy_version = $2', [environmentId, version]);
    expect(run).toMatchObject({ trigger: 'policy', status: 'completed' });
    expect(run.summary).toContain('1 package license no longer accepted');
    const v = await view(env);
    expect(v.findings).toEqual([
      expect.objectContaining({
        kind: 'license',
        subject: 'MIT',
        promotionId: p.id,
        blocking: true,
        note: 'not-allowed',
      }),
    ]);
    expect(registryRequests()).toBe(before);
  });

  it('gives a run whose job was lost its job again', async () => {
    const env = await environment();
    const { id: environmentId } = (await rig.call('GET', `/v1/environments/${env}`, { as: 'admin' })).body;
    // Queued long ago, with no outbox row and no job: as if Redis lost it.
    const [{ id }] = await rig.sql(
      `INSERT INTO verification_run (id, trigger, environment_id, policy_version, status, created_at)
       VALUES (gen_random_uuid(), 'policy', $1, 1, 'queued', now() - interval '1 hour') RETURNING id`,
      [environmentId],
    );
    const run = await finishedRun('id = $1', [id]);
    expect(run.status).toBe('completed');
  });

  it('lets the environment’s admins, approvers and auditors read it, and no one else', async () => {
    const env = await environment();
    const other = await environment();
    bindings.push(
      await addRoleBinding(rig, { role: 'approver', issuer: 'people', subject: 'ivan', environment: other }),
    );
    const get = (opts: Parameters<Rig['call']>[2], name = env) =>
      rig.call('GET', `/v1/environments/${name}/verification`, opts);
    expect((await get({ as: null })).status).toBe(401);
    expect((await get({ as: 'noRole' })).status).toBe(403);
    expect((await get({ as: 'requester' })).body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await get({ token: await rig.token('otherRepo', { fresh: true }) })).status).toBe(403);
    expect((await get({ as: 'scopedApprover' })).status).toBe(403);
    expect((await get({ as: 'scopedApprover' }, other)).status).toBe(200);
    for (const as of ['admin', 'approver', 'auditor'] as const) expect((await get({ as })).status).toBe(200);
    expect((await get({ as: 'auditor' }, 'Bad_Name')).status).toBe(400);
    expect((await get({ as: 'auditor' }, `nowhere-${uid()}`)).status).toBe(404);
  });
});
