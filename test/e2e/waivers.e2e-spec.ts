// Waivers end to end: an exception two people agree on lets a vulnerable image through, is named
// in the check result and in Airlock's signed attestation, ends by itself on the test clock, and
// cannot be granted by the person who asked (nor by their linked identity). Real registries, a real
// OSV import, the built API and worker, a database of this file's own (identity links stay here).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { RegistryClient } from '../../libs/oci';
import { PROMOTION_PREDICATE } from '../../libs/trust';
import { pushImage } from '../support/oci-images';
import { osvFixtures, osvZip } from '../support/osv';
import { startRegistry, type RegistryHandle } from '../support/registry';
import { type ClientName, Rig } from '../support/rig';
import { addRoleBinding } from '../support/role-bindings';
import { generateTestKeyPair, inTotoStatement } from '../support/sigstore';
import { testEnv } from '../support/test-env';
import { keyAttestation, pushCosignAttestations, pushKeySignature } from '../support/trust-fixtures';
import { type CliResult, runCli } from '../support/cli-process';

const hex = (): string => randomBytes(3).toString('hex');
const DAY = 86_400_000;

describe('waivers', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const dbName = `airlock_test_waivers_${hex()}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  const clockFile = join(mkdtempSync(join(tmpdir(), 'airlock-clock-')), 'offset');
  const setClock = (days: number) => writeFileSync(clockFile, String(days * DAY));
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;

  beforeAll(async () => {
    setClock(0);
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    [rig, source, target] = await Promise.all([
      Rig.start(
        {
          AIRLOCK_TEST_CLOCK_FILE: clockFile,
          WORKER_QUEUES: 'checks,promote,maintenance',
          // The maintenance round announces waivers that ended: every second here.
          RECONCILE_INTERVAL_MS: '1000',
          WORKER_RETRY_DELAY_MS: '100',
        },
        { databaseUrl: url },
      ),
      startRegistry(),
      startRegistry(),
    ]);
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
    await Promise.all([rig?.stop(), source?.stop(), target?.stop()]);
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });
  afterEach(() => setClock(0));

  const policy = (approvals: number, waivers: Record<string, unknown> | null = { maxDays: 30 }) => ({
    approvals: { required: approvals },
    signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] },
    scans: { vulnerabilities: { maxSeverity: 'medium' } },
    ...(waivers ? { waivers } : {}),
  });

  async function environment(doc: Record<string, unknown>): Promise<string> {
    const env = `waive-${hex()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name: env,
      sources: [{ registry: source.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: target.host, repository: 'prod/{repository}', insecure: true },
    });
    const v = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: { document: doc },
    });
    expect(v.status).toBe(201);
    const a = await rig.call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    expect(a.status).toBe(200);
    return env;
  }

  /** A signed image whose signed SBOM has Django 4.2.7 (TEST-PYPI-0001, alias CVE-2099-0002, critical). */
  async function vulnerableImage(): Promise<string> {
    const img = await pushImage(source.host, REPO, `vuln-${hex()}`);
    await pushKeySignature(source.host, REPO, img.digest, release);
    const sbom = inTotoStatement(img.digest, 'https://cyclonedx.org/bom', {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [{ type: 'library', name: 'django', version: '4.2.7', purl: 'pkg:pypi/django@4.2.7' }],
    });
    await pushCosignAttestations(source.host, REPO, img.digest, [keyAttestation(sbom, release)]);
    return img.digest;
  }

  async function promote(env: string, digest: string, statuses: string[]): Promise<any> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${source.host}/${REPO}@${digest}`, environment: env },
    });
    expect(res.status).toBe(201);
    return rig.waitForStatus(res.body.id, statuses, 30_000);
  }

  /** The built CLI as a child process, with only the server and a token in its environment. */
  function airlock(args: string[], token: string): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, AIRLOCK_TOKEN: token });
  }

  const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
  const request = (env: string, body: Record<string, unknown>, as: ClientName = 'approver') =>
    rig.call('POST', `/v1/environments/${env}/waivers`, { as, body });
  const grant = (env: string, id: string, as: ClientName = 'admin') =>
    rig.call('POST', `/v1/environments/${env}/waivers/${id}/grant`, { as });
  const vulnerabilities = (p: any) => p.checks.find((c: any) => c.kind === 'vulnerabilities');

  it('lets a vulnerable image through once granted, named in the check result and in the attestation', async () => {
    const env = await environment(policy(0));
    const digest = await vulnerableImage();
    const asked = await request(env, {
      check: 'vulnerabilities',
      finding: 'CVE-2099-0002',
      digest,
      reason: 'the ORM path is not reachable; upgrade scheduled',
      expiresAt: inDays(7),
    });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ state: 'requested', requestedBy: expect.stringMatching(/^alice@/) });
    const id = asked.body.id;

    // Requested is not granted: the image is still refused.
    expect((await promote(env, digest, ['rejected', 'approved', 'promoted'])).status).toBe('rejected');

    // The person who asked cannot grant it.
    const self = await grant(env, id, 'approver');
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('four_eyes_required');
    const granted = await grant(env, id, 'admin');
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ state: 'active', grantedBy: expect.stringMatching(/^erin@/) });
    expect((await grant(env, id, 'admin2')).status).toBe(409);

    const p = await promote(env, digest, ['promoted', 'rejected', 'failed']);
    expect(p.status).toBe('promoted');
    const check = vulnerabilities(p);
    expect(check).toMatchObject({ status: 'waived', waivers: [{ waiver: id, finding: 'CVE-2099-0002' }] });
    expect(check.summary).toContain(`waived by ${id}`);
    expect(check.findings[0]).toMatchObject({ advisory: 'TEST-PYPI-0001', blocking: false, waived: id });

    // Airlock's signed attestation in the target names the waiver, apart from the checks.
    const client = new RegistryClient({ host: target.host, insecure: true });
    try {
      const att = await client.tagSchemeManifest(`prod/${REPO}`, digest, 'att');
      const layer = ((att!.json as any).layers as any[]).find(
        (l) => l.annotations.predicateType === PROMOTION_PREDICATE,
      );
      const envelope = JSON.parse(
        (await client.getBlobBytes(`prod/${REPO}`, layer.digest, { maxBytes: 1 << 20 })).toString(),
      );
      const predicate = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()).predicate;
      expect(predicate.waivers).toEqual([
        {
          check: 'vulnerabilities',
          finding: 'CVE-2099-0002',
          waiver: id,
          reason: 'the ORM path is not reachable; upgrade scheduled',
          expiresAt: granted.body.expiresAt,
        },
      ]);
      expect(predicate.checks).toContainEqual(
        expect.objectContaining({ kind: 'vulnerabilities', status: 'waived' }),
      );
    } finally {
      client.close();
    }

    const events = await rig.sql<{ action: string }>(
      `SELECT action FROM (SELECT action, subject_id FROM audit_event UNION ALL SELECT action, subject_id FROM audit_pending) a
        WHERE subject_id = $1 ORDER BY action`,
      [id],
    );
    expect(events.map((e) => e.action)).toEqual(['waiver.granted', 'waiver.requested']);
    // A dry run shows the waiver too.
    const dry = await rig.call('POST', '/v1/promotions/evaluate', {
      as: 'requester',
      body: { artifact: `${source.host}/${REPO}@${digest}`, environment: env },
    });
    expect(dry.body).toMatchObject({ decision: 'approved' });
    expect(vulnerabilities(dry.body)).toMatchObject({ status: 'waived', waivers: [id] });
  });

  it('ends by itself: expired on the test clock, it no longer applies to a promotion not yet approved', async () => {
    const env = await environment(policy(1));
    const hook = await rig.call('POST', '/v1/webhooks', {
      as: 'admin',
      body: { url: 'http://127.0.0.1:9/waivers', eventTypes: ['waiver.expired'], environments: [env] },
    });
    expect(hook.status).toBe(201);
    const digest = await vulnerableImage();
    const asked = await request(env, {
      check: 'vulnerabilities',
      repositoryPattern: 'acme/*',
      reason: 'whole check, for a week',
      expiresAt: inDays(7),
    });
    expect(asked.status).toBe(201);
    expect((await grant(env, asked.body.id)).status).toBe(200);
    const waiting = await promote(env, digest, ['awaiting_approval', 'rejected']);
    expect(waiting.status).toBe('awaiting_approval');
    expect(vulnerabilities(waiting)).toMatchObject({
      status: 'waived',
      waivers: [{ waiver: asked.body.id, finding: null }],
    });

    setClock(8);
    const listed = await rig.call('GET', `/v1/environments/${env}/waivers`, { as: 'auditor' });
    expect(listed.body.items[0]).toMatchObject({ id: asked.body.id, status: 'granted', state: 'expired' });
    const cli = await airlock(['waivers', 'list', env], await rig.token('auditor'));
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(
      new RegExp(`${asked.body.id}\\s+expired\\s+vulnerabilities\\s+\\(whole check\\)\\s+acme/\\*`),
    );
    // The approval that would have approved it finds the waiver lapsed and rejects instead.
    const approved = await rig.call('POST', `/v1/promotions/${waiting.id}/approvals`, {
      as: 'approver2',
      body: { decision: 'approve', digest },
    });
    expect(approved.status).toBe(201);
    const after = await rig.waitForStatus(waiting.id, ['rejected', 'approved', 'promoted']);
    expect(after.status).toBe('rejected');
    expect(after.reasons).toEqual([
      `vulnerabilities: waiver ${asked.body.id} was expired; what it let pass fails again`,
    ]);
    // A new request is judged without it.
    const later = await promote(env, digest, ['rejected', 'awaiting_approval']);
    expect(later.status).toBe('rejected');
    expect(vulnerabilities(later)).toMatchObject({ status: 'fail', waivers: [] });
    // Its end was announced once, by the worker's maintenance round: audited and a webhook event.
    const until = Date.now() + 20_000;
    let ended: Array<{ n: string }> = [];
    while (Date.now() < until) {
      ended = await rig.sql<{ n: string }>(
        `SELECT count(*)::text AS n FROM webhook_event WHERE type = 'waiver.expired' AND subject_id = $1`,
        [asked.body.id],
      );
      if (ended[0].n !== '0') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(ended).toEqual([{ n: '1' }]);
    const [{ n }] = await rig.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM (SELECT action, subject_id FROM audit_event
         UNION ALL SELECT action, subject_id FROM audit_pending) a WHERE action = 'waiver.expired' AND subject_id = $1`,
      [asked.body.id],
    );
    expect(n).toBe('1');
  });

  it('a revoked waiver no longer applies either, and is audited', async () => {
    const env = await environment(policy(1));
    // Someone listens for waiver decisions (nothing receives here: the events and deliveries are checked).
    const hook = await rig.call('POST', '/v1/webhooks', {
      as: 'admin',
      body: {
        url: 'http://127.0.0.1:9/waivers',
        eventTypes: ['waiver.granted', 'waiver.revoked'],
        environments: [env],
      },
    });
    expect(hook.status).toBe(201);
    const digest = await vulnerableImage();
    const asked = await request(
      env,
      { check: 'vulnerabilities', digest, reason: 'r', expiresAt: inDays(3) },
      'admin',
    );
    expect((await grant(env, asked.body.id, 'approver')).status).toBe(200);
    const waiting = await promote(env, digest, ['awaiting_approval', 'rejected']);
    expect(waiting.status).toBe('awaiting_approval');
    const revoked = await rig.call('POST', `/v1/environments/${env}/waivers/${asked.body.id}/revoke`, {
      as: 'admin2',
      body: { reason: 'the upgrade landed' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ state: 'revoked', revokeReason: 'the upgrade landed' });
    // Break-glass (frank holds it) skips approvals, never checks: not on a revoked exception either.
    const broken = await rig.call('POST', `/v1/promotions/${waiting.id}/break-glass`, {
      as: 'admin2',
      body: { reason: 'production is down, cannot wait' },
    });
    expect(`${broken.status} ${JSON.stringify(broken.body)}`).toMatch(/^409 /);
    expect(broken.body.detail).toContain(`${asked.body.id} (vulnerabilities, revoked)`);
    const approved = await rig.call('POST', `/v1/promotions/${waiting.id}/approvals`, {
      as: 'approver2',
      body: { decision: 'approve', digest },
    });
    expect(approved.status).toBe(201);
    expect((await rig.waitForStatus(waiting.id, ['rejected', 'approved', 'promoted'])).status).toBe(
      'rejected',
    );
    const again = await rig.call('POST', `/v1/environments/${env}/waivers/${asked.body.id}/revoke`, {
      as: 'admin2',
      body: { reason: 'twice' },
    });
    expect(again.status).toBe(409);
    const [{ n }] = await rig.sql<{ n: string }>(
      `SELECT count(*)::text AS n FROM (SELECT action, subject_id FROM audit_event
         UNION ALL SELECT action, subject_id FROM audit_pending) a WHERE action = 'waiver.revoked' AND subject_id = $1`,
      [asked.body.id],
    );
    expect(n).toBe('1');
    // The grant and the revocation are webhook events, each with a delivery to the subscription.
    const events = await rig.sql<{ type: string; deliveries: string; waiver: string }>(
      `SELECT e.type, count(d.id)::text AS deliveries, e.facts->'details'->>'waiverId' AS waiver
       FROM webhook_event e LEFT JOIN webhook_delivery d ON d.event_id = e.id AND d.subscription_id = $2
       WHERE e.subject_type = 'waiver' AND e.subject_id = $1 GROUP BY e.id ORDER BY e.id`,
      [asked.body.id, hook.body.id],
    );
    expect(events).toEqual([
      { type: 'waiver.granted', deliveries: '1', waiver: asked.body.id },
      { type: 'waiver.revoked', deliveries: '1', waiver: asked.body.id },
    ]);
  });

  it('refuses what the policy does not allow, bad input and callers without the role, and changes nothing', async () => {
    const env = await environment(policy(0, { maxDays: 10 }));
    const without = await environment(policy(0, null));
    const digest = `sha256:${'a'.repeat(64)}`;
    const valid = {
      check: 'vulnerabilities',
      finding: 'CVE-2099-0002',
      digest,
      reason: 'r',
      expiresAt: inDays(5),
    };
    const [{ n: before }] = await rig.sql<{ n: string }>('SELECT count(*)::text AS n FROM waiver');
    const cases: Array<[string, string, Record<string, unknown>, ClientName | null, number, RegExp?]> = [
      ['anonymous', env, valid, null, 401],
      ['no role', env, valid, 'noRole', 403],
      ['a requester', env, valid, 'requester', 403],
      ['an auditor', env, valid, 'auditor', 403],
      ["another environment's approver", env, valid, 'scopedApprover', 403],
      [
        'a signature check',
        env,
        { ...valid, check: 'signatures', finding: undefined },
        'approver',
        400,
        /allowSignatureWaivers/,
      ],
      ['beyond maxDays', env, { ...valid, expiresAt: inDays(11) }, 'approver', 400, /at most 10 day/],
      ['in the past', env, { ...valid, expiresAt: inDays(-1) }, 'approver', 400, /future/],
      ['no waivers section', without, valid, 'approver', 400, /allows no waivers/],
      ['digest and pattern', env, { ...valid, repositoryPattern: 'acme/*' }, 'approver', 400, /exactly one/],
      ['neither digest nor pattern', env, { ...valid, digest: undefined }, 'approver', 400, /exactly one/],
      [
        'a bad pattern',
        env,
        { ...valid, digest: undefined, repositoryPattern: 'ACME/**/../x' },
        'approver',
        400,
      ],
      ['no reason', env, { ...valid, reason: '' }, 'approver', 400],
      ['not a time', env, { ...valid, expiresAt: 'tomorrow' }, 'approver', 400],
      ['a bad check name', env, { ...valid, check: 'Vulns!' }, 'approver', 400],
      ['an unknown environment', 'nowhere', valid, 'approver', 404],
    ];
    for (const [what, e, body, as, status, message] of cases) {
      const res = await request(e, body, as as ClientName);
      if (as === null) {
        const anon = await rig.call('POST', `/v1/environments/${e}/waivers`, { as: null, body });
        expect(`${what}: ${anon.status}`).toBe(`${what}: ${status}`);
        continue;
      }
      expect(`${what}: ${res.status}`).toBe(`${what}: ${status}`);
      if (message) expect(JSON.stringify(res.body)).toMatch(message);
    }
    const [{ n: after }] = await rig.sql<{ n: string }>('SELECT count(*)::text AS n FROM waiver');
    expect(after).toBe(before);

    const asked = await request(env, valid);
    const id = asked.body.id;
    for (const [what, path, as, status] of [
      ['grant: a requester', `${id}/grant`, 'requester', 403],
      ['grant: an auditor', `${id}/grant`, 'auditor', 403],
      ["grant: another environment's approver", `${id}/grant`, 'scopedApprover', 403],
      ['grant: not a uuid', 'x/grant', 'admin', 400],
      ['grant: unknown', `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/grant`, 'admin', 404],
      ['revoke: no reason', `${id}/revoke`, 'admin', 400],
    ] as const) {
      const res = await rig.call('POST', `/v1/environments/${env}/waivers/${path}`, { as, body: {} });
      expect(`${what}: ${res.status}`).toBe(`${what}: ${status}`);
    }
    // Another environment's waiver is not found here.
    expect((await grant(without, id)).status).toBe(404);
    expect(
      (await rig.call('GET', `/v1/environments/${env}/waivers/${id}`, { as: 'auditor' })).body.state,
    ).toBe('requested');
  });

  it('a linked identity of the person who asked cannot grant it', async () => {
    const env = await environment(policy(0));
    const asked = await request(env, {
      check: 'vulnerabilities',
      repositoryPattern: 'acme/app',
      reason: 'r',
      expiresAt: inDays(2),
    });
    expect(asked.status).toBe(201);
    // bob's account is linked to alice's person: one person, two identities.
    const people = rig.issuers.people;
    await rig.trustChange('POST', '/v1/identity-links', {
      identity: `bob@${people}`,
      person: `alice@${people}`,
    });
    const linked = await grant(env, asked.body.id, 'approver2');
    expect(linked.status).toBe(403);
    expect(linked.body.code).toBe('four_eyes_required');
    expect((await grant(env, asked.body.id, 'admin')).status).toBe(200);
  });
});
