import { randomBytes } from 'node:crypto';

import {
  cosignPayload,
  cosignSign,
  pushCosignSignatures,
  pushImage,
  type PushedImage,
} from '../support/oci-images';
import { PromoterRig } from '../support/promoter-rig';
import { addRoleBinding, removeRoleBinding } from '../support/role-bindings';
import { Rig } from '../support/rig';
import { generateTestKeyPair } from '../support/sigstore';
import { type CliResult, runCli } from '../support/cli-process';

/**
 * Drift end to end: images promoted to a token-auth production registry, then changed there behind
 * Airlock's back with skopeo (a tag moved, a tag pushed, a promoted digest deleted); a drift check
 * asked for over the API finds each, reading the registry with the environment's credential profile
 * and tokens of pull scope only. Findings are listed, audited and counted in /metrics.
 */
describe('drift', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const uid = (): string => randomBytes(3).toString('hex');

  let rig: Rig;
  let pr: PromoterRig;
  const bindings: string[] = [];

  beforeAll(async () => {
    pr = await PromoterRig.start();
    rig = await Rig.start({
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      WORKER_QUEUES: 'checks,promote,maintenance',
      WORKER_RETRY_DELAY_MS: '200',
      // Checks run when asked for here: a scheduled one would race the changes the tests make.
      DRIFT_CHECK_INTERVAL_MS: '0',
    });
    await rig.trustIssuer(pr.issuer);
  }, 300_000);

  afterAll(async () => {
    for (const id of bindings) await removeRoleBinding(rig, id).catch(() => undefined);
    await rig?.stop();
    await pr?.stop();
  });

  /** An environment promoting into a target repository of its own: `<name>/acme/app`. */
  async function environment(): Promise<string> {
    const name = `drift-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: pr.sources(['acme/*']),
      target: pr.targetMapping(pr.profile(), `${name}/{repository}`),
    });
    const v = await rig.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: {
        document: {
          approvals: { required: 0 },
          signatures: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] },
        },
      },
    });
    expect(v.status).toBe(201);
    const a = await rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    expect(a.status).toBe(200);
    return name;
  }

  /** Pushes and signs an image in the source registry, promotes it as `tag`, waits for promoted. */
  async function promote(env: string, tag: string): Promise<PushedImage & { promotionId: string }> {
    const image = await pushImage(pr.source.directHost, REPO, tag, {
      layers: 1,
      layerSize: 4096,
      auth: await pr.pushAuth(pr.source, REPO),
    });
    const payload = cosignPayload(`${pr.source.host}/${REPO}`, image.digest);
    await pushCosignSignatures(
      pr.source.directHost,
      REPO,
      image.digest,
      [{ payload, signature: cosignSign(payload, release.privateKey) }],
      await pr.pushAuth(pr.source, REPO),
    );
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${pr.source.host}/${REPO}:${tag}`, environment: env },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 60_000);
    if (done.status !== 'promoted')
      throw new Error(`promotion ${done.status}: ${JSON.stringify(done.reasons)}`);
    return { ...image, promotionId: res.body.id };
  }

  /** Asks for a check and waits until it is finished; returns it with its findings. */
  async function check(env: string, as: 'admin' | 'approver' = 'approver'): Promise<any> {
    const res = await rig.call('POST', `/v1/environments/${env}/drift-checks`, { as });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ environment: env, trigger: 'request', status: 'queued' });
    const until = Date.now() + 60_000;
    for (;;) {
      const got = await rig.call('GET', `/v1/environments/${env}/drift-checks/${res.body.id}`, {
        as: 'auditor',
      });
      expect(got.status).toBe(200);
      if (!['queued', 'running'].includes(got.body.status)) return got.body;
      if (Date.now() > until) throw new Error(`drift check ${res.body.id} is still ${got.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The built CLI (`npm run build`), run as a child process with only the environment given. */
  function airlock(args: string[], token: string): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, AIRLOCK_TOKEN: token });
  }

  /** The `access` claim of a registry token (a JWT the registry-token issuer signed). */
  const accessOf = (token: string): Array<{ type: string; name: string; actions: string[] }> =>
    JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).access ?? [];

  /** Pushes another image to the target directly, as `tag`: behind Airlock's back. */
  async function pushBehindAirlock(env: string, tag: string): Promise<PushedImage> {
    return pushImage(pr.target.directHost, `${env}/${REPO}`, tag, {
      layers: 1,
      layerSize: 2048,
      auth: await pr.pushAuth(pr.target, `${env}/${REPO}`),
    });
  }

  it('finds nothing while the registry holds what was promoted, reading with pull-only tokens', async () => {
    const env = await environment();
    await promote(env, `v1-${uid()}`);
    pr.resetObservations();
    const done = await check(env);
    expect(done).toMatchObject({
      status: 'completed',
      summary: 'no drift: the registry holds what Airlock promoted',
      findings: [],
      counts: { repositories: 1, findings: 0 },
    });
    // Every token the check presented to the target was asked for with pull scope only, and it
    // sent nothing but reads.
    const tokens = [...new Set(pr.target.requests.map((r) => r.token).filter((t): t is string => !!t))];
    expect(tokens.length).toBeGreaterThan(0);
    const actions = new Set(tokens.flatMap((t) => accessOf(t).flatMap((a) => a.actions)));
    expect([...actions]).toEqual(['pull']);
    expect(new Set(pr.target.requests.map((r) => r.method))).toEqual(new Set(['GET', 'HEAD']));
    expect(pr.target.requests.some((r) => r.path.startsWith(`/v2/${env}/${REPO}/tags/list`))).toBe(true);
  });

  it('finds a tag moved with skopeo, a tag Airlock never wrote, and a promoted digest deleted', async () => {
    const env = await environment();
    // A webhook subscriber of drift (nothing receives here: the events and deliveries are checked).
    const hook = await rig.call('POST', '/v1/webhooks', {
      as: 'admin',
      body: { url: 'http://127.0.0.1:9/drift', eventTypes: ['drift.found'], environments: [env] },
    });
    expect(hook.status).toBe(201);
    const tag = `v1-${uid()}`;
    const promoted = await promote(env, tag);
    const gone = await promote(env, `v2-${uid()}`);

    const moved = await pushBehindAirlock(env, tag);
    const hotfix = `hotfix-${uid()}`;
    const foreign = await pushBehindAirlock(env, hotfix);
    await pr.deleteManifest(pr.target, `${env}/${REPO}`, gone.digest);

    const done = await check(env, 'admin');
    expect(done.status).toBe('completed');
    const byKind = (kind: string) => done.findings.filter((f: any) => f.kind === kind);
    expect(byKind('tag_moved')).toEqual([
      expect.objectContaining({
        repository: `${env}/${REPO}`,
        tag,
        expectedDigest: promoted.digest,
        actualDigest: moved.digest,
        promotionId: promoted.promotionId,
      }),
    ]);
    expect(byKind('tag_unknown')).toEqual([
      expect.objectContaining({ tag: hotfix, actualDigest: foreign.digest, expectedDigest: null }),
    ]);
    expect(byKind('digest_missing')).toEqual([
      expect.objectContaining({ expectedDigest: gone.digest, promotionId: gone.promotionId }),
    ]);
    // Deleting the manifest took its tag with it.
    expect(byKind('tag_missing')).toEqual([expect.objectContaining({ expectedDigest: gone.digest })]);
    expect(done.summary).toBe(
      '1 tag moved, 1 promoted tag gone, 1 tag never written by Airlock, 1 promoted digest gone',
    );

    // The same from the CLI: a new check, waited for; exit code 2 says drift was found.
    const cli = await airlock(['drift', 'check', env], await rig.token('approver'));
    expect({ code: cli.code, moved: cli.stdout.includes(`tag_moved`) }).toEqual({ code: 2, moved: true });
    const shown = await airlock(['drift', 'show', env, '--json'], await rig.token('auditor'));
    expect(JSON.parse(shown.stdout).latest.findings).toHaveLength(4);

    // Listed per environment, audited as an event a notifier can follow, counted in /metrics.
    const listed = await rig.call('GET', `/v1/environments/${env}/drift`, { as: 'auditor' });
    expect(listed.status).toBe(200);
    expect(listed.body.latest.summary).toBe(done.summary);
    expect(listed.body.latest.findings).toHaveLength(4);
    expect(listed.body.pending).toBeNull();

    const events = await rig.sql(
      `SELECT action, details FROM (
         SELECT action, details, subject_id FROM audit_event UNION ALL
         SELECT action, details, subject_id FROM audit_pending) a
       WHERE subject_id = $1 AND action LIKE 'drift.%' ORDER BY action`,
      [env],
    );
    // Two checks (the API's and the CLI's), each requested, checked and detecting.
    expect(events.map((e: any) => e.action)).toEqual([
      'drift.check_requested',
      'drift.check_requested',
      'drift.checked',
      'drift.checked',
      'drift.detected',
      'drift.detected',
    ]);
    const detected = events.find((e: any) => e.action === 'drift.detected');
    expect(detected.details.byKind).toEqual({
      tag_moved: 1,
      tag_missing: 1,
      tag_unknown: 1,
      digest_missing: 1,
    });

    // Each check that found drift raised drift.found, delivered to the subscriber with what differs.
    const found = await rig.sql<{ environment: string; deliveries: string; moved: string }>(
      `SELECT e.environment, count(d.id)::text AS deliveries,
              e.facts->'details'->'byKind'->>'tag_moved' AS moved
       FROM webhook_event e LEFT JOIN webhook_delivery d ON d.event_id = e.id AND d.subscription_id = $2
       WHERE e.type = 'drift.found' AND e.environment = $1 GROUP BY e.id ORDER BY e.id`,
      [env, hook.body.id],
    );
    expect(found).toEqual([
      { environment: env, deliveries: '1', moved: '1' },
      { environment: env, deliveries: '1', moved: '1' },
    ]);

    const metrics = await rig.call('GET', '/metrics');
    expect(metrics.body).toContain(`airlock_drift_findings{environment="${env}",kind="tag_moved"} 1`);
    expect(metrics.body).toContain(`airlock_drift_findings{environment="${env}",kind="digest_missing"} 1`);
  });

  it('asking again while a check is queued returns that check, and queues nothing more', async () => {
    const env = await environment();
    const { id: environmentId } = (await rig.call('GET', `/v1/environments/${env}`, { as: 'admin' })).body;
    // A check queued but not yet taken by a worker (no outbox row: no worker will take this one).
    const queued = '00000000-0000-4000-8000-' + randomBytes(6).toString('hex');
    await rig.sql(
      `INSERT INTO drift_check (id, environment_id, trigger, requested_by, status)
       VALUES ($1, $2, 'request', '{"kind":"human","issuer":"test","subject":"someone"}', 'queued')`,
      [queued, environmentId],
    );
    const again = await rig.call('POST', `/v1/environments/${env}/drift-checks`, { as: 'approver' });
    expect({ status: again.status, id: again.body.id }).toEqual({ status: 200, id: queued });
    const rows = await rig.sql(`SELECT count(*)::int AS n FROM drift_check WHERE environment_id = $1`, [
      environmentId,
    ]);
    expect(rows[0].n).toBe(1);
    const view = await rig.call('GET', `/v1/environments/${env}/drift`, { as: 'approver' });
    expect(view.body).toMatchObject({ latest: null, pending: { id: queued, status: 'queued' } });

    // Hours later no worker has finished it (its job was lost): it is closed, and a new one queued.
    await rig.sql(`UPDATE drift_check SET created_at = now() - interval '3 hours' WHERE id = $1`, [queued]);
    const fresh = await rig.call('POST', `/v1/environments/${env}/drift-checks`, { as: 'approver' });
    expect(fresh.status).toBe(202);
    expect(fresh.body.id).not.toBe(queued);
    const closed = await rig.call('GET', `/v1/environments/${env}/drift-checks/${queued}`, { as: 'auditor' });
    expect(closed.body).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/no worker finished it/),
    });
  });

  it('refuses callers without a role for the environment, and bad input, changing nothing', async () => {
    const env = await environment();
    const other = await environment();
    // ivan approves in another environment only.
    bindings.push(
      await addRoleBinding(rig, { role: 'approver', issuer: 'people', subject: 'ivan', environment: other }),
    );
    const checks = async (): Promise<number> =>
      (await rig.sql(`SELECT count(*)::int AS n FROM drift_check`))[0].n as number;
    const before = await checks();

    const post = (opts: Parameters<Rig['call']>[2], name = env) =>
      rig.call('POST', `/v1/environments/${name}/drift-checks`, opts);
    expect((await post({ as: null })).status).toBe(401);
    expect((await post({ as: 'requester' })).body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await post({ token: await rig.token('otherRepo', { fresh: true }) })).status).toBe(403);
    expect((await post({ as: 'auditor' })).status).toBe(403);
    expect((await post({ as: 'noRole' })).status).toBe(403);
    expect((await post({ as: 'scopedApprover' })).body).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await post({ as: 'approver' }, 'Not_A_Name')).status).toBe(400);
    expect((await post({ as: 'approver' }, `nowhere-${uid()}`)).status).toBe(404);
    expect(await checks()).toBe(before);

    // ivan may in his own environment.
    expect((await post({ as: 'scopedApprover' }, other)).status).toBe(202);
    expect((await rig.call('GET', `/v1/environments/${env}/drift`, { as: 'scopedApprover' })).status).toBe(
      403,
    );
    expect((await rig.call('GET', `/v1/environments/${env}/drift`, { as: 'requester' })).status).toBe(403);
    expect((await rig.call('GET', `/v1/environments/${env}/drift`, { as: null })).status).toBe(401);

    // A check is read through its own environment only; ids are uuids.
    const mine = await rig.call('GET', `/v1/environments/${other}/drift`, { as: 'auditor' });
    const id = mine.body.pending?.id ?? mine.body.latest?.id;
    expect(id).toBeDefined();
    expect(
      (await rig.call('GET', `/v1/environments/${env}/drift-checks/${id}`, { as: 'auditor' })).status,
    ).toBe(404);
    expect(
      (await rig.call('GET', `/v1/environments/${env}/drift-checks/not-a-uuid`, { as: 'auditor' })).status,
    ).toBe(400);
    const empty = await rig.call('GET', `/v1/environments/${env}/drift`, { as: 'admin' });
    expect(empty.body).toEqual({ environment: env, latest: null, pending: null });
  });
});
