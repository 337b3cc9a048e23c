import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../../libs/oci';
import { PROMOTION_PREDICATE } from '../../libs/trust';
import { pushImage } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { Rig } from '../support/rig';
import { runCli } from '../support/cli-process';

/**
 * Environment chains, soak time and freeze windows, end to end: a real API and worker (promoter
 * included), Postgres, Redis/BullMQ (the delayed release job) and two docker-registry instances.
 * Durations are seconds, so holds and releases happen within a test without sleeps of its own.
 */
describe('promoter: chains, soak and freeze windows', () => {
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  const hex = (): string => randomBytes(3).toString('hex');

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    rig = await Rig.start({ WORKER_QUEUES: 'checks,promote,maintenance', WORKER_RETRY_DELAY_MS: '100' });
  });
  afterAll(async () => {
    await rig?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  /** An environment taking acme/* from the source, promoting to `<name>/{repository}` on the target. */
  async function environment(
    name: string,
    policy: Record<string, unknown> = { approvals: { required: 0 } },
    upstreams: string[] = [],
  ): Promise<void> {
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: [{ registry: source.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: target.host, repository: `${name}/{repository}`, insecure: true },
    });
    const v = await rig.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: { document: policy },
    });
    expect(v.status).toBe(201);
    const a = await rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    expect(a.status).toBe(200);
    if (upstreams.length) {
      const set = await rig.trustChange('POST', `/v1/environments/${name}/upstreams`, { upstreams });
      expect(set.upstreams).toEqual(upstreams);
    }
  }

  const request = async (artifact: string, environmentName: string) =>
    rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact, environment: environmentName },
    });

  async function promoted(artifact: string, environmentName: string): Promise<any> {
    const res = await request(artifact, environmentName);
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    return done;
  }

  /** The promotion predicate Airlock attached to the promoted image (read from the target registry). */
  async function predicate(repository: string, digest: string): Promise<any> {
    const client = new RegistryClient({ host: target.host, insecure: true });
    try {
      const att = await client.tagSchemeManifest(repository, digest, 'att');
      const layers = (
        att?.json as { layers: Array<{ digest: string; annotations?: Record<string, string> }> }
      ).layers;
      const layer = layers.find((l) => l.annotations?.predicateType === PROMOTION_PREDICATE);
      const blob = await client.getBlobBytes(repository, layer?.digest as string, { maxBytes: 1 << 20 });
      const envelope = JSON.parse(blob.toString('utf8'));
      return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).predicate;
    } finally {
      client.close();
    }
  }

  /** The sealed audit events of a subject with these actions, once none of its events is still pending. */
  async function audit(subject: string, actions: string[]): Promise<Array<{ action: string; details: any }>> {
    const until = Date.now() + 15_000;
    for (;;) {
      const pending = await rig.sql('SELECT 1 FROM audit_pending WHERE subject_id = $1', [subject]);
      if (pending.length === 0 || Date.now() > until) {
        return rig.sql(
          'SELECT action, details FROM audit_event WHERE subject_id = $1 AND action = ANY($2::text[]) ORDER BY seq',
          [subject, actions],
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** `airlock verify-attestation` (the built CLI) on a promoted image: what it prints. */
  async function verifyWithCli(image: string): Promise<string> {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'airlock-chain-')), 'airlock.pem');
    writeFileSync(
      keyFile,
      (await rig.call('GET', '/v1/audit/checkpoints', { as: 'auditor' })).body.publicKey,
    );
    const args = ['verify-attestation', image, '--public-key', keyFile, '--insecure'];
    const r = await runCli(args, { AIRLOCK_SERVER: 'http://127.0.0.1:1' });
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stdout}`);
    return r.stdout;
  }

  it('promotes dev → staging → production, refusing a skip, and shows the chain and where the digest stands', async () => {
    const s = hex();
    const [dev, staging, production] = [`dev-${s}`, `staging-${s}`, `production-${s}`];
    await environment(dev);
    await environment(staging, undefined, [dev]);
    await environment(production, undefined, [staging]);
    const image = await pushImage(source.host, 'acme/app', `c-${s}`, { layers: 1 });
    const artifact = `${source.host}/acme/app:c-${s}`;

    // A skip is refused at intake, naming the upstream, and creates nothing.
    const skip = await request(artifact, production);
    expect(skip.status).toBe(409);
    expect(skip.body).toMatchObject({
      code: 'upstream_not_promoted',
      details: { environment: production, upstreams: [staging], digest: image.digest },
    });
    expect((await request(artifact, staging)).body.code).toBe('upstream_not_promoted');
    const none = await rig.call('GET', `/v1/promotions?digest=${image.digest}`, { as: 'auditor' });
    expect(none.body.items).toEqual([]);

    const inDev = await promoted(artifact, dev);
    const inStaging = await promoted(artifact, staging);
    const inProduction = await promoted(artifact, production);
    expect(inProduction.gate).toEqual({
      upstream: {
        environment: staging,
        promotionId: inStaging.id,
        tag: `c-${s}`,
        promotedAt: expect.any(String),
      },
      soak: null,
      freeze: { overridden: false, windows: [] },
    });
    // The attestation names the upstream promotion relied on.
    const p = await predicate(`${production}/acme/app`, image.digest);
    expect(p.upstream).toMatchObject({ environment: staging, promotionId: inStaging.id });
    expect(p.freeze).toEqual({ overridden: false, windows: [] });

    // The chain, read both ways.
    const prodView = await rig.call('GET', `/v1/environments/${production}`, { as: 'requester' });
    expect(prodView.body).toMatchObject({ upstreams: [staging], downstreams: [] });
    const stagingView = await rig.call('GET', `/v1/environments/${staging}`, { as: 'requester' });
    expect(stagingView.body).toMatchObject({ upstreams: [dev], downstreams: [production] });

    // Where the digest stands: one promotion per environment, each current there.
    const where = await rig.call('GET', `/v1/artifacts/${image.digest}`, { as: 'approver' });
    expect(where.status).toBe(200);
    expect(where.body.environments).toEqual([
      expect.objectContaining({
        environment: dev,
        upstreams: [],
        promotions: [expect.objectContaining({ id: inDev.id, status: 'promoted', current: true })],
      }),
      expect.objectContaining({
        environment: production,
        upstreams: [staging],
        promotions: [expect.objectContaining({ id: inProduction.id, current: true })],
      }),
      expect.objectContaining({
        environment: staging,
        upstreams: [dev],
        promotions: [expect.objectContaining({ id: inStaging.id, current: true })],
      }),
    ]);
  });

  it('changes upstreams only with four eyes, refuses loops, unknown names and bad input, and audits the change', async () => {
    const s = hex();
    const [a, b] = [`chain-a-${s}`, `chain-b-${s}`];
    await environment(a);
    await environment(b, undefined, [a]);
    // A loop (a ← b ← a) is refused when proposed: nothing is stored.
    const loop = await rig.call('POST', `/v1/environments/${a}/upstreams`, {
      as: 'admin',
      body: { upstreams: [b] },
    });
    expect(loop.status).toBe(409);
    expect(loop.body.details.loop).toEqual([a, b, a]);
    const self = await rig.call('POST', `/v1/environments/${a}/upstreams`, {
      as: 'admin',
      body: { upstreams: [a] },
    });
    expect(self.status).toBe(400);
    const unknown = await rig.call('POST', `/v1/environments/${a}/upstreams`, {
      as: 'admin',
      body: { upstreams: [`nowhere-${s}`] },
    });
    expect(unknown.status).toBe(404);
    for (const body of [{}, { upstreams: 'a' }, { upstreams: ['Not A Name'] }, { upstreams: [], extra: 1 }]) {
      expect((await rig.call('POST', `/v1/environments/${a}/upstreams`, { as: 'admin', body })).status).toBe(
        400,
      );
    }
    expect(
      (await rig.call('POST', `/v1/environments/${b}/upstreams`, { as: 'approver', body: { upstreams: [] } }))
        .status,
    ).toBe(403);
    // The proposer cannot apply their own change; until another admin does, the chain holds.
    // Reads of what does not exist, and of what is no digest.
    expect(
      (await rig.call('GET', `/v1/environments/nowhere-${s}/freeze-windows`, { as: 'auditor' })).status,
    ).toBe(404);
    expect((await rig.call('GET', '/v1/artifacts/sha256:XYZ', { as: 'auditor' })).status).toBe(400);
    expect((await rig.call('GET', '/v1/artifacts/latest', { as: 'auditor' })).status).toBe(400);
    const nothing = await rig.call('GET', `/v1/artifacts/sha256:${'e'.repeat(64)}`, { as: 'auditor' });
    expect(nothing.body).toEqual({ digest: `sha256:${'e'.repeat(64)}`, environments: [] });
    const proposal = await rig.call('POST', `/v1/environments/${b}/upstreams`, {
      as: 'admin',
      body: { upstreams: [] },
    });
    expect(proposal.status).toBe(202);
    expect(proposal.body.summary).toBe(
      `set the upstreams of ${b} to none (any allowed source may enter directly) (was ${a})`,
    );
    const own = await rig.call('POST', `/v1/changes/${proposal.body.id}/approve`, { as: 'admin' });
    expect(own.status).toBe(403);
    expect((await rig.call('GET', `/v1/environments/${b}`, { as: 'auditor' })).body.upstreams).toEqual([a]);
    await rig.approveChange(proposal);
    expect((await rig.call('GET', `/v1/environments/${b}`, { as: 'auditor' })).body.upstreams).toEqual([]);
    const events = await audit(b, ['environment.upstreams_set']);
    expect(events.map((e) => e.details)).toEqual([
      { upstreams: [a], previous: [] },
      { upstreams: [], previous: [a] },
    ]);
  });

  it('holds an approved promotion until the digest has soaked upstream, then releases it by itself', async () => {
    const s = hex();
    const [staging, production] = [`soak-staging-${s}`, `soak-production-${s}`];
    await environment(staging);
    await environment(production, { approvals: { required: 1 }, soak: { duration: '8s' } }, [staging]);
    const image = await pushImage(source.host, 'acme/app', `s-${s}`, { layers: 1 });
    const artifact = `${source.host}/acme/app:s-${s}`;
    const inStaging = await promoted(artifact, staging);

    // Accepted before the soak ends, and it collects its approval.
    const res = await request(artifact, production);
    expect(res.status).toBe(201);
    await rig.waitForStatus(res.body.id, ['awaiting_approval']);
    const approve = await rig.call('POST', `/v1/promotions/${res.body.id}/approvals`, {
      as: 'approver',
      body: { decision: 'approve', digest: image.digest },
    });
    expect(approve.status).toBe(201);

    // Approved, it waits for the soak: what for and until when, in the API.
    const waiting = await rig.waitForStatus(res.body.id, ['waiting', 'promoted']);
    expect(waiting.status).toBe('waiting');
    expect(waiting.waitingFor).toBe('soak');
    const stagingPromotedAt = Date.parse(inStaging.history.at(-1).at);
    expect(Math.abs(Date.parse(waiting.waitingUntil) - (stagingPromotedAt + 8000))).toBeLessThan(1000);

    // It proceeds by itself (the delayed release job), without anyone calling the API.
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    expect(done.history.map((h: any) => h.to)).toEqual([
      'received',
      'checking',
      'awaiting_approval',
      'approved',
      'waiting',
      'approved',
      'promoting',
      'promoted',
    ]);
    expect(Date.parse(done.history.at(-3).at)).toBeGreaterThanOrEqual(Date.parse(waiting.waitingUntil) - 50);
    expect(done.waitingFor).toBeNull();
    expect(done.gate.soak).toMatchObject({ required: '8s', skipped: false });
    expect(done.gate.soak.observedSeconds).toBeGreaterThanOrEqual(8);
    const p = await predicate(`${production}/acme/app`, image.digest);
    expect(p.soak).toMatchObject({ required: '8s', skipped: false });
    expect(p.upstream.promotionId).toBe(inStaging.id);
    const printed = await verifyWithCli(`${target.host}/${production}/acme/app@${image.digest}`);
    expect(printed).toMatch(new RegExp(`upstream\\s+${staging}: promotion ${inStaging.id} \\(tag s-${s}\\)`));
    expect(printed).toMatch(/soak\s+required 8s; observed \d+ s since /);
  });

  /** A deny window from a minute ago to `seconds` from now, as a policy's freeze section. */
  const denyFor = (seconds: number, name = 'release-freeze') => ({
    windows: [
      {
        name,
        kind: 'deny',
        from: new Date(Date.now() - 60_000).toISOString(),
        until: new Date(Date.now() + seconds * 1000).toISOString(),
      },
    ],
  });

  it('holds a promotion inside a deny window and starts it when the window ends', async () => {
    const env = `frozen-${hex()}`;
    const freeze = denyFor(6);
    await environment(env, { approvals: { required: 0 }, freeze });
    // A webhook subscriber (nothing receives here: the event and its delivery are checked).
    const hook = await rig.call('POST', '/v1/webhooks', {
      as: 'admin',
      body: { url: 'http://127.0.0.1:9/chain', eventTypes: ['promotion.waiting'], environments: [env] },
    });
    expect(hook.status).toBe(201);
    const windows = await rig.call('GET', `/v1/environments/${env}/freeze-windows`, { as: 'requester' });
    expect(windows.body).toMatchObject({
      frozen: true,
      frozenUntil: new Date(freeze.windows[0].until).toISOString(),
      frozenBy: ['release-freeze'],
      windows: [
        {
          name: 'release-freeze',
          kind: 'deny',
          next: [{ end: new Date(freeze.windows[0].until).toISOString() }],
        },
      ],
    });
    await pushImage(source.host, 'acme/app', `f-${env}`, { layers: 1 });
    const res = await request(`${source.host}/acme/app:f-${env}`, env);
    const waiting = await rig.waitForStatus(res.body.id, ['waiting', 'promoted']);
    expect(waiting).toMatchObject({
      status: 'waiting',
      waitingFor: 'freeze',
      waitingUntil: new Date(freeze.windows[0].until).toISOString(),
    });
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    expect(done.gate.freeze).toEqual({ overridden: false, windows: [] });
    const events = await audit(res.body.id, ['promotion.waiting']);
    expect(events[0].details).toMatchObject({ waitingFor: 'freeze', waitingUntil: waiting.waitingUntil });
    // The wait is a webhook event (promotion.waiting), written with the transition, with a delivery.
    const raised = await rig.sql<{ deliveries: string }>(
      `SELECT count(d.id)::text AS deliveries FROM webhook_event e
       LEFT JOIN webhook_delivery d ON d.event_id = e.id AND d.subscription_id = $2
       WHERE e.type = 'promotion.waiting' AND e.subject_id = $1 GROUP BY e.id`,
      [res.body.id, hook.body.id],
    );
    expect(raised).toEqual([{ deliveries: '1' }]);
  });

  it('starts promotions only inside allow windows', async () => {
    const open = `allow-open-${hex()}`;
    const closed = `allow-closed-${hex()}`;
    // Open all day every day; and open one hour on 1 January only.
    const always = {
      name: 'always',
      kind: 'allow',
      cron: '0 0 * * *',
      duration: '24h',
      timezone: 'Europe/Berlin',
    };
    const newYear = { name: 'new-year', kind: 'allow', cron: '0 0 1 1 *', duration: '1h', timezone: 'UTC' };
    await environment(open, { approvals: { required: 0 }, freeze: { windows: [always] } });
    await environment(closed, { approvals: { required: 0 }, freeze: { windows: [newYear] } });
    await pushImage(source.host, 'acme/app', `a-${open}`, { layers: 1 });
    const artifact = `${source.host}/acme/app:a-${open}`;

    const inside = await promoted(artifact, open);
    expect(inside.history.map((h: any) => h.to)).not.toContain('waiting');

    const res = await request(artifact, closed);
    const waiting = await rig.waitForStatus(res.body.id, ['waiting', 'promoted']);
    const nextNewYear = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`;
    expect(waiting).toMatchObject({ status: 'waiting', waitingFor: 'freeze', waitingUntil: nextNewYear });
    const listed = await rig.call('GET', `/v1/environments/${closed}/freeze-windows`, { as: 'auditor' });
    expect(listed.body).toMatchObject({ frozen: true, frozenBy: ['allow'], frozenUntil: nextNewYear });
    expect(listed.body.windows[0].next.map((o: any) => o.start)).toEqual([
      nextNewYear,
      `${new Date().getUTCFullYear() + 2}-01-01T00:00:00.000Z`,
      `${new Date().getUTCFullYear() + 3}-01-01T00:00:00.000Z`,
    ]);
    // Cancelling a waiting promotion ends its wait.
    const cancel = await rig.call('POST', `/v1/promotions/${res.body.id}/cancel`, {
      token: await rig.token('requester'),
      body: { reason: 'not waiting a year' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
  });

  it('lets break-glass override a freeze, and says so in the history, the audit trail and the attestation', async () => {
    const env = `glass-${hex()}`;
    await environment(env, { approvals: { required: 0 }, freeze: denyFor(3600, 'incident-freeze') });
    const image = await pushImage(source.host, 'acme/app', `g-${env}`, { layers: 1 });
    const res = await request(`${source.host}/acme/app:g-${env}`, env);
    await rig.waitForStatus(res.body.id, ['waiting']);

    // Only a freeze: the approvers' role does not break glass, and a soak would not be overridden.
    expect(
      (
        await rig.call('POST', `/v1/promotions/${res.body.id}/break-glass`, {
          as: 'approver',
          body: { reason: 'no' },
        })
      ).status,
    ).toBe(403);
    const glass = await rig.call('POST', `/v1/promotions/${res.body.id}/break-glass`, {
      as: 'admin2',
      body: { reason: 'hotfix for the outage' },
    });
    expect(glass.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    expect(done.gate.freeze).toEqual({ overridden: true, windows: ['incident-freeze'] });
    expect(done.history.find((h: any) => h.to === 'promoting').reason).toMatch(/FREEZE OVERRIDDEN/);
    const events = await audit(res.body.id, ['promotion.break_glass', 'promotion.promoting']);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'promotion.break_glass',
        details: expect.objectContaining({ freezeOverridden: true, severity: 'critical' }),
      }),
      expect.objectContaining({
        action: 'promotion.promoting',
        details: expect.objectContaining({ freezeOverridden: true, severity: 'critical' }),
      }),
    ]);
    const p = await predicate(`${env}/acme/app`, image.digest);
    expect(p.breakGlass).toBe(true);
    expect(p.freeze).toEqual({ overridden: true, windows: ['incident-freeze'] });
    const printed = await verifyWithCli(`${target.host}/${env}/acme/app@${image.digest}`);
    expect(printed).toMatch(/freeze\s+OVERRIDDEN by break-glass \(incident-freeze\)/);
    expect(printed).toMatch(/break-glass\s+yes/);
  });
});
