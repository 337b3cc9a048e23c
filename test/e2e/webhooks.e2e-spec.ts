import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_EVENT_TYPES } from '../../libs/domain';
import { fakeSecrets, gzip, LAYER_GZIP, secretFiles, tarLayer } from '../support/layer-fixtures';
import { pushImage, pushLayers } from '../support/oci-images';
import { PromoterRig } from '../support/promoter-rig';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { type ClientName, Rig } from '../support/rig';
import { addRoleBinding, removeRoleBinding } from '../support/role-bindings';
import { specVerify, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Signed webhooks end to end: a real receiver on loopback verifies every delivery with the
 * `standardwebhooks` verifier and with one written only from the specification. Events come from
 * real promotions over the promoter rig's token-auth registries (and an anonymous one for the
 * secret scan); retries, timeouts, a killed worker, rotation, redirects and disabling are driven
 * through the built API and worker.
 */

/**
 * The events one promotion run produces here. Those of chains and freezes (promotion.waiting),
 * waivers, drift checks and continuous verification are raised by their own flows and checked,
 * event row and delivery, in promoter-chain, waivers, drift and verification e2e.
 */
const ELSEWHERE = new Set([
  'promotion.waiting',
  'waiver.granted',
  'waiver.revoked',
  'waiver.expired',
  'drift.found',
  'verification.affected',
]);
const PROMOTION_RUN_EVENTS = WEBHOOK_EVENT_TYPES.filter((t) => !ELSEWHERE.has(t));

describe('webhooks', () => {
  const uid = (): string => randomBytes(3).toString('hex');
  const clockFile = join(mkdtempSync(join(tmpdir(), 'airlock-clock-')), 'offset');
  let clockHours = 0;
  const advanceClock = (hours: number): void => {
    clockHours += hours;
    writeFileSync(clockFile, String(clockHours * 3600_000));
  };

  let rig: Rig;
  let pr: PromoterRig;
  let plain: RegistryHandle;
  const receivers: WebhookReceiver[] = [];
  const subscriptions: string[] = [];
  /** An environment every test may subscribe to and add policy versions to (policy events). */
  let quiet = '';

  beforeAll(async () => {
    writeFileSync(clockFile, '0');
    [pr, plain] = await Promise.all([PromoterRig.start(), startRegistry()]);
    rig = await Rig.start({
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      AIRLOCK_TEST_CLOCK_FILE: clockFile,
      AIRLOCK_PUBLIC_URL: 'https://airlock.example.com',
      WORKER_QUEUES: 'checks,promote,maintenance,webhooks',
      WORKER_SWEEP_INTERVAL_MS: '300',
      WORKER_JOB_ATTEMPTS: '2',
      WORKER_RETRY_DELAY_MS: '200',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_DELAY_MS: '800',
      WEBHOOK_DISABLE_AFTER_MS: String(3600_000),
      // Maintenance rounds (requeue and pruning of webhook history) often; nothing here is stale.
      RECONCILE_INTERVAL_MS: '500',
    });
    await rig.trustIssuer(pr.issuer);
    quiet = await bareEnvironment();
  }, 300_000);

  afterAll(async () => {
    if (rig) for (const id of subscriptions) await rig.call('DELETE', `/v1/webhooks/${id}`, { as: 'admin' });
    for (const r of receivers) await r.stop();
    await rig?.stop();
    await Promise.all([pr?.stop(), plain?.stop()]);
  });

  async function receiver(): Promise<WebhookReceiver> {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  }

  /** An environment with no policy yet (so that its policy events come after a subscription). */
  async function bareEnvironment(kind: 'rig' | 'readOnly' | 'plain' = 'rig'): Promise<string> {
    const name = `hook-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      ...(kind === 'plain'
        ? {
            sources: [{ registry: plain.host, repositories: ['acme/*'], insecure: true }],
            target: { registry: plain.host, repository: 'prod/{repository}', insecure: true },
          }
        : {
            sources: pr.sources(['acme/*']),
            target: pr.targetMapping(kind === 'readOnly' ? pr.profile({ client: 'readOnly' }) : pr.profile()),
          }),
    });
    return name;
  }

  /** Adds a policy version (admin) and activates it (admin2): policy.proposed, policy.activated. */
  async function policy(env: string, document: Record<string, unknown>): Promise<void> {
    const v = await rig.call('POST', `/v1/environments/${env}/policies`, { as: 'admin', body: { document } });
    if (v.status !== 201) throw new Error(`policy: ${v.status} ${JSON.stringify(v.body)}`);
    const a = await rig.call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    if (a.status !== 200) throw new Error(`activate: ${a.status} ${JSON.stringify(a.body)}`);
  }

  async function subscribe(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const res = await rig.call('POST', '/v1/webhooks', { as: 'admin', body });
    if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
    subscriptions.push(res.body.id);
    return { id: res.body.id, secret: res.body.secret };
  }

  async function request(artifact: string, env: string): Promise<string> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact, environment: env },
    });
    if (res.status !== 201) throw new Error(`request: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  async function sourceImage(tag: string): Promise<string> {
    const img = await pushImage(pr.source.directHost, 'acme/app', tag, {
      layers: 1,
      layerSize: 4096,
      auth: await pr.pushAuth(pr.source, 'acme/app'),
    });
    return `${pr.source.host}/acme/app@${img.digest}`;
  }

  /** Ends a test's subscription, so later tests' events do not reach its receiver. */
  async function unsubscribe(id: string): Promise<void> {
    expect((await rig.call('DELETE', `/v1/webhooks/${id}`, { as: 'admin' })).status).toBe(204);
    subscriptions.splice(subscriptions.indexOf(id), 1);
  }

  async function deliveries(id: string): Promise<any[]> {
    const res = await rig.call('GET', `/v1/webhooks/${id}/deliveries`, { as: 'admin' });
    expect(res.status).toBe(200);
    return res.body.items;
  }

  /** Waits until the subscription's deliveries satisfy `ok` (read through the API). */
  async function waitDeliveries(id: string, ok: (d: any[]) => boolean, timeoutMs = 20_000): Promise<any[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const d = await deliveries(id);
      if (ok(d)) return d;
      if (Date.now() > until) throw new Error(`deliveries: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('delivers every event type of real promotions, each verified by the library and by the specification', async () => {
    const [env, readOnly, scanned] = [
      await bareEnvironment(),
      await bareEnvironment('readOnly'),
      await bareEnvironment('plain'),
    ];
    const hook = await receiver();
    const chat = await receiver();
    const { secret } = await subscribe({
      url: hook.url,
      eventTypes: WEBHOOK_EVENT_TYPES,
      environments: [env, readOnly, scanned],
      description: 'every event',
    });
    hook.secrets = [secret];
    const chatSub = await subscribe({
      url: chat.url,
      eventTypes: ['promotion.promoted', 'promotion.rejected'],
      environments: [env],
      format: 'chat',
    });
    chat.secrets = [chatSub.secret];

    await policy(env, { approvals: { required: 1, pendingTimeout: '2h' } });
    await policy(readOnly, { approvals: { required: 0 } });
    await policy(scanned, { approvals: { required: 0 }, scans: { secrets: {} } });

    const awaiting = async (): Promise<{ id: string; digest: string }> => {
      const id = await request(await sourceImage(`t-${uid()}`), env);
      const p = await rig.waitForStatus(id, ['awaiting_approval'], 30_000);
      return { id, digest: p.digest };
    };
    // Approved by a person, then copied: requested … promoted.
    const approved = await awaiting();
    const ok = await rig.call('POST', `/v1/promotions/${approved.id}/approvals`, {
      as: 'approver',
      body: { decision: 'approve', digest: approved.digest },
    });
    expect(ok.status).toBe(201);
    await rig.waitForStatus(approved.id, ['promoted'], 60_000);
    // Rejected, cancelled, broken glass (then signed off), expired.
    const rejected = await awaiting();
    await rig.call('POST', `/v1/promotions/${rejected.id}/approvals`, {
      as: 'approver',
      body: { decision: 'reject', digest: rejected.digest, comment: 'not this week' },
    });
    const cancelled = await awaiting();
    await rig.call('POST', `/v1/promotions/${cancelled.id}/cancel`, {
      as: 'admin',
      body: { reason: 'superseded' },
    });
    const glass = await awaiting();
    const review = await rig.call('POST', `/v1/promotions/${glass.id}/break-glass`, {
      as: 'admin2',
      body: { reason: 'production is down, hotfix for INC-7' },
    });
    expect(review.status).toBe(201);
    await rig.waitForStatus(glass.id, ['promoted'], 60_000);
    const signed = await rig.call('POST', `/v1/break-glass-reviews/${review.body.id}/sign-off`, {
      as: 'approver',
      body: { comment: 'reviewed' },
    });
    expect(signed.status).toBe(200);
    const expiring = await awaiting();
    advanceClock(3);
    await rig.waitForStatus(expiring.id, ['expired'], 30_000);
    // A copy the target refuses (read-only credentials): failed.
    const failed = await request(await sourceImage(`f-${uid()}`), readOnly);
    await rig.waitForStatus(failed, ['failed'], 60_000);
    // Secrets in the image: rejected, and secret.found.
    const planted = secretFiles(fakeSecrets()).slice(1, 3);
    const { digest } = await pushLayers(plain.host, 'acme/app', `s-${uid()}`, [
      {
        bytes: gzip(await tarLayer(planted.map((f) => ({ path: f.path, content: f.content })))),
        mediaType: LAYER_GZIP,
      },
    ]);
    const leaky = await request(`${plain.host}/acme/app@${digest}`, scanned);
    await rig.waitForStatus(leaky, ['rejected'], 60_000);

    await hook.waitFor(
      (all) => PROMOTION_RUN_EVENTS.every((t) => all.some((r) => r.json?.type === t)),
      30_000,
      'event of every type',
    );
    // Every delivery verified by both verifiers, each webhook-id once (all answered 204).
    expect(hook.received.filter((r) => !r.library || !r.spec)).toEqual([]);
    const ids = hook.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    const of = (type: string, promotion?: string): any[] =>
      hook.received
        .map((r) => r.json)
        .filter((j) => j.type === type && (!promotion || j.data.promotion?.id === promotion));
    expect(of('promotion.requested', approved.id)).toHaveLength(1);
    expect(of('promotion.awaiting_approval', approved.id)[0].data.mayApprove).toMatchObject({
      role: 'approver',
      environment: env,
      rules: [{ required: 1 }],
    });
    const promoted = of('promotion.promoted', approved.id)[0];
    const detail = (await rig.call('GET', `/v1/promotions/${approved.id}`, { as: 'auditor' })).body;
    expect(promoted).toMatchObject({
      version: 1,
      data: {
        targetDigest: approved.digest,
        attestation: { digest: detail.attestation.digest },
        links: { promotion: `https://airlock.example.com/v1/promotions/${approved.id}` },
      },
    });
    expect(of('promotion.rejected', rejected.id)[0].data.reasons.join(' ')).toContain('not this week');
    expect(of('break_glass.used', glass.id)).toHaveLength(1);
    expect(of('promotion.expired', expiring.id)).toHaveLength(1);
    expect(of('promotion.cancelled', cancelled.id)[0].data.reason).toContain('superseded');
    expect(of('promotion.failed', failed)).toHaveLength(1);
    expect(of('secret.found', leaky)[0].data).toMatchObject({ findings: 2, rules: expect.any(Array) });
    // Never a secret or token: not the planted ones, not the signing secret, not the registry clients'.
    const everything = hook.received.map((r) => r.body).join('\n');
    for (const s of [secret, ...planted.map((f) => f.secret), ...pr.allSecrets]) {
      expect(everything).not.toContain(s);
    }
    expect(everything).not.toContain('whsec_');
    // The chat subscription got Slack-compatible messages with a link.
    await chat.waitFor((all) => all.length >= 2, 20_000, 'chat messages');
    expect(chat.verified).toHaveLength(chat.received.length);
    const promotedChat = chat.received
      .map((r) => r.json)
      .find((j) => j.text.startsWith('Promotion promoted'));
    expect(promotedChat.blocks[0].text.text).toContain(`<https://airlock.example.com/v1/promotions/`);
    // The deliveries API lists them, each delivered on the first attempt.
    const listed = await waitDeliveries(subscriptions[0], (all) =>
      all.every((d) => d.status === 'delivered'),
    );
    expect(listed.length).toBe(hook.received.length);
    expect(listed.every((d) => d.attempts === 1 && d.attemptList[0].outcome === 'delivered')).toBe(true);
    // Metrics: deliveries by outcome and the lag histogram (the worker publishes every 5 s).
    const until = Date.now() + 15_000;
    let metrics = '';
    // The API shows its own (empty) series at once: wait for the worker's published counts.
    const delivered = /airlock_webhook_deliveries_total\{outcome="delivered",format="standard"\} \d+/;
    while (!delivered.test(metrics) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      metrics = String((await rig.call('GET', '/metrics')).body);
    }
    expect(metrics).toMatch(delivered);
    expect(metrics).toMatch(/airlock_webhook_delivery_lag_seconds_count [1-9]\d*/);
  }, 300_000);

  it('a receiver that fails twice gets the event once more, under the same webhook-id', async () => {
    const hook = await receiver();
    const { id, secret } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    hook.secrets = [secret];
    hook.behaviour = (_r, n) => (n <= 2 ? 503 : 204);
    const v = await rig.call('POST', `/v1/environments/${quiet}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 } } },
    });
    expect(v.status).toBe(201);
    await hook.waitFor((all) => all.some((r) => r.answered === 204));
    expect(hook.received.map((r) => r.answered)).toEqual([503, 503, 204]);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(hook.verified).toHaveLength(3);
    const [d] = await waitDeliveries(id, (all) => all[0]?.status === 'delivered');
    expect(d).toMatchObject({ attempts: 3, webhookId: hook.received[0].headers['webhook-id'] });
    expect(d.attemptList.map((a: any) => [a.outcome, a.statusCode])).toEqual([
      ['http_error', 503],
      ['http_error', 503],
      ['delivered', 204],
    ]);
    expect(d.attemptList[0].excerpt).toBe('receiver says 503');
    // Re-sent by an admin: the same webhook-id again, so the receiver can tell it is a repeat.
    const again = await rig.call('POST', `/v1/webhooks/${id}/deliveries/${d.id}/resend`, { as: 'admin' });
    expect(again.status).toBe(202);
    await hook.waitFor((all) => all.length === 4);
    expect(hook.received[3].headers['webhook-id']).toBe(d.webhookId);
    await waitDeliveries(id, (all) => all[0].status === 'delivered' && all[0].resends === 1);
    await unsubscribe(id);
  });

  it('a receiver that hangs is timed out and retried', async () => {
    const hook = await receiver();
    const { id, secret } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    hook.secrets = [secret];
    hook.behaviour = (_r, n) => (n === 1 ? 'hang' : 204);
    await rig.call('POST', `/v1/environments/${quiet}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 } } },
    });
    const [d] = await waitDeliveries(id, (all) => all[0]?.status === 'delivered');
    expect(d.attemptList.map((a: any) => a.outcome)).toEqual(['timeout', 'delivered']);
    expect(d.attemptList[0].latencyMs).toBeGreaterThanOrEqual(1000);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    await unsubscribe(id);
  });

  it('a worker killed mid-delivery: another worker delivers it, under the same webhook-id', async () => {
    const hook = await receiver();
    const { id, secret } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    hook.secrets = [secret];
    let killed: Promise<void> | undefined;
    hook.behaviour = (_r, n) => {
      if (n > 1) return 204;
      // The worker is sending right now: kill it before it hears back.
      killed = rig.stack.stopWorker('SIGKILL');
      return 'hang';
    };
    await rig.call('POST', `/v1/environments/${quiet}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 } } },
    });
    await hook.waitFor((all) => all.length === 1);
    await killed;
    await rig.stack.startWorker();
    await hook.waitFor((all) => all.some((r) => r.answered === 204), 30_000);
    expect(new Set(hook.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(hook.received.filter((r) => r.answered === 204)).toHaveLength(1);
    const [d] = await waitDeliveries(id, (all) => all[0]?.status === 'delivered');
    expect(d.attemptList.at(-1).outcome).toBe('delivered');
    await unsubscribe(id);
  }, 120_000);

  it('rotation: both secrets sign during the grace period, then only the new one', async () => {
    const hook = await receiver();
    const { id, secret: old } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    const rotated = await rig.call('POST', `/v1/webhooks/${id}/rotate-secret`, {
      as: 'admin',
      body: { graceSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    hook.secrets = [fresh];
    const propose = (): Promise<unknown> =>
      rig.call('POST', `/v1/environments/${quiet}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 1 } } },
      });
    await propose();
    await hook.waitFor((all) => all.length === 1);
    const during = hook.received[0];
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    // A receiver that still holds only the old secret verifies too, with either verifier.
    expect(() => new Webhook(old).verify(during.body, during.headers)).not.toThrow();
    expect(specVerify(old, during.headers, during.body)).toBe(true);
    expect(during.library && during.spec).toBe(true);

    const ended = await rig.call('POST', `/v1/webhooks/${id}/rotate-secret`, {
      as: 'admin',
      body: { graceSeconds: 0 },
    });
    hook.secrets = [ended.body.secret];
    await propose();
    await hook.waitFor((all) => all.length === 2);
    const after = hook.received[1];
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(after.library && after.spec).toBe(true);
    expect(specVerify(fresh, after.headers, after.body)).toBe(false);
    expect(() => new Webhook(old).verify(after.body, after.headers)).toThrow();
    // Neither secret is in any view, or in the audit trail.
    const view = JSON.stringify((await rig.call('GET', `/v1/webhooks/${id}`, { as: 'admin' })).body);
    const audit = JSON.stringify(
      await rig.sql('SELECT details FROM audit_event WHERE subject_id = $1', [id]),
    );
    for (const s of [old, fresh, ended.body.secret]) {
      expect(view).not.toContain(s);
      expect(audit).not.toContain(s);
    }
    await unsubscribe(id);
  });

  it('does not follow a redirect, and disables a subscription that keeps failing, saying why', async () => {
    const hook = await receiver();
    const elsewhere = await receiver();
    const { id, secret } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    hook.secrets = [secret];
    hook.behaviour = () => ({ redirect: elsewhere.url });
    await rig.call('POST', `/v1/environments/${quiet}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 } } },
    });
    const [d] = await waitDeliveries(id, (all) => (all[0]?.attempts ?? 0) >= 2);
    expect(d.attemptList[0]).toMatchObject({ outcome: 'redirect', statusCode: 302 });
    expect(d.attemptList[0].excerpt).toContain(`redirect not followed (Location: ${elsewhere.url})`);
    expect(elsewhere.received).toEqual([]);
    // Failing for longer than WEBHOOK_DISABLE_AFTER_MS (an hour here): the next failure disables it.
    advanceClock(2);
    const until = Date.now() + 20_000;
    let view: any;
    do {
      await new Promise((r) => setTimeout(r, 200));
      view = (await rig.call('GET', `/v1/webhooks/${id}`, { as: 'admin' })).body;
    } while (view.enabled && Date.now() < until);
    expect(view).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining('deliveries failing since'),
    });
    expect(view.disabledReason).toContain('redirect 302');
    await waitDeliveries(id, (all) => all[0].status === 'failed');
    const before = hook.received.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(hook.received.length).toBe(before);
    // Enabled again by an admin: a fresh failure clock; a re-send then goes out.
    hook.behaviour = () => 204;
    const enabled = await rig.call('POST', `/v1/webhooks/${id}/enable`, { as: 'admin' });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    await rig.call('POST', `/v1/webhooks/${id}/deliveries/${d.id}/resend`, { as: 'admin' });
    await waitDeliveries(id, (all) => all[0].status === 'delivered');
    await unsubscribe(id);
  });

  it('prunes finished deliveries and their events after WEBHOOK_RETENTION_DAYS, keeping newer ones', async () => {
    const hook = await receiver();
    const { id, secret } = await subscribe({
      url: hook.url,
      eventTypes: ['policy.proposed'],
      environments: [quiet],
    });
    hook.secrets = [secret];
    for (let i = 0; i < 2; i++) {
      await rig.call('POST', `/v1/environments/${quiet}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 1 } } },
      });
    }
    const [newer, older] = await waitDeliveries(
      id,
      (all) => all.length === 2 && all.every((d) => d.status === 'delivered'),
    );
    await rig.sql(`UPDATE webhook_delivery SET created_at = now() - interval '40 days' WHERE id = $1`, [
      older.id,
    ]);
    await waitDeliveries(id, (all) => all.length === 1);
    expect((await deliveries(id)).map((d) => d.id)).toEqual([newer.id]);
    expect(await rig.sql('SELECT id FROM webhook_event WHERE id = $1', [older.eventId])).toEqual([]);
    expect(await rig.sql('SELECT id FROM webhook_attempt WHERE delivery_id = $1', [older.id])).toEqual([]);
    await unsubscribe(id);
  });

  describe('subscriptions API', () => {
    let scopedAdmin = '';
    beforeAll(async () => {
      scopedAdmin = await addRoleBinding(rig, {
        role: 'admin',
        issuer: 'people',
        subject: 'judy',
        environment: quiet,
      });
    });
    afterAll(async () => {
      if (scopedAdmin) await removeRoleBinding(rig, scopedAdmin);
    });

    const count = async (): Promise<number> =>
      Number((await rig.sql('SELECT count(*)::int AS n FROM webhook_subscription'))[0].n);

    it('refuses URLs outside the operator’s allowed hosts, and bad input, creating nothing', async () => {
      const before = await count();
      const valid = {
        url: 'http://127.0.0.1:9/hook',
        eventTypes: ['promotion.promoted'],
        environments: [quiet],
      };
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ ...valid, url: 'http://10.1.2.3/hook' }, 422, 'host_not_allowed'],
        [{ ...valid, url: 'http://169.254.169.254/latest' }, 422, 'host_not_allowed'],
        [{ ...valid, url: 'ftp://127.0.0.1/x' }, 422, 'host_not_allowed'],
        [{ ...valid, url: 'https://user:pw@127.0.0.1/x' }, 422, 'host_not_allowed'],
        [{ ...valid, url: 'not a url' }, 422, 'host_not_allowed'],
        [{ ...valid, eventTypes: [] }, 400, 'validation_failed'],
        [{ ...valid, eventTypes: ['promotion.exploded'] }, 400, 'validation_failed'],
        [{ ...valid, eventTypes: 'promotion.promoted' }, 400, 'validation_failed'],
        [{ ...valid, environments: ['Not A Name'] }, 400, 'validation_failed'],
        [{ ...valid, environments: [`nowhere-${uid()}`] }, 400, 'validation_failed'],
        [{ ...valid, format: 'xml' }, 400, 'validation_failed'],
        [{ ...valid, secret: 'whsec_mine' }, 400, 'validation_failed'],
        [{ ...valid, description: 'x'.repeat(201) }, 400, 'validation_failed'],
        [{ eventTypes: ['promotion.promoted'] }, 400, 'validation_failed'],
      ];
      for (const [body, status, code] of cases) {
        const res = await rig.call('POST', '/v1/webhooks', { as: 'admin', body });
        expect({ body, status: res.status, code: res.body?.code }).toEqual({ body, status, code });
      }
      expect(await count()).toBe(before);
    });

    it('admits global admins only, on every route', async () => {
      const hook = await receiver();
      const { id } = await subscribe({
        url: hook.url,
        eventTypes: ['promotion.promoted'],
        environments: [quiet],
      });
      const routes: Array<[string, string, unknown?]> = [
        ['POST', '/v1/webhooks', { url: hook.url, eventTypes: ['promotion.promoted'] }],
        ['GET', '/v1/webhooks'],
        ['GET', `/v1/webhooks/${id}`],
        ['DELETE', `/v1/webhooks/${id}`],
        ['POST', `/v1/webhooks/${id}/disable`, {}],
        ['POST', `/v1/webhooks/${id}/enable`],
        ['POST', `/v1/webhooks/${id}/rotate-secret`, {}],
        ['GET', `/v1/webhooks/${id}/deliveries`],
        ['POST', `/v1/webhooks/${id}/deliveries/${id}/resend`],
      ];
      const callers: Array<ClientName | null> = [
        null,
        'noRole',
        'requester',
        'approver',
        'auditor',
        'scopedAdmin',
      ];
      for (const [method, path, body] of routes) {
        for (const as of callers) {
          const res = await rig.call(method, path, { as, body });
          expect({ method, path, as, status: res.status }).toEqual({
            method,
            path,
            as,
            status: as ? 403 : 401,
          });
        }
      }
      expect((await rig.call('GET', `/v1/webhooks/${id}`, { as: 'admin' })).body.enabled).toBe(true);
    });

    it('answers bad ids with 400 and unknown ones with 404; changes are audited without the secret', async () => {
      const missing = '00000000-0000-4000-8000-000000000000';
      for (const [method, path] of [
        ['GET', '/v1/webhooks/nope'],
        ['DELETE', '/v1/webhooks/nope'],
        ['POST', '/v1/webhooks/nope/disable'],
        ['GET', '/v1/webhooks/nope/deliveries'],
        ['POST', `/v1/webhooks/${missing}/deliveries/nope/resend`],
      ] as const) {
        const body = method === 'GET' ? undefined : {};
        expect((await rig.call(method, path, { as: 'admin', body })).status).toBe(400);
      }
      for (const [method, path] of [
        ['GET', `/v1/webhooks/${missing}`],
        ['DELETE', `/v1/webhooks/${missing}`],
        ['POST', `/v1/webhooks/${missing}/enable`],
        ['POST', `/v1/webhooks/${missing}/rotate-secret`],
        ['GET', `/v1/webhooks/${missing}/deliveries`],
      ] as const) {
        const body = method === 'GET' ? undefined : {};
        expect((await rig.call(method, path, { as: 'admin', body })).status).toBe(404);
      }
      const hook = await receiver();
      const { id, secret } = await subscribe({
        url: hook.url,
        eventTypes: ['policy.activated'],
        environments: [quiet],
      });
      expect(
        (await rig.call('POST', `/v1/webhooks/${id}/deliveries/${missing}/resend`, { as: 'admin' })).status,
      ).toBe(404);
      expect(
        (
          await rig.call('POST', `/v1/webhooks/${id}/rotate-secret`, {
            as: 'admin',
            body: { graceSeconds: -1 },
          })
        ).status,
      ).toBe(400);
      expect(
        (await rig.call('GET', `/v1/webhooks/${id}/deliveries?cursor=garbage!`, { as: 'admin' })).status,
      ).toBe(400);
      const disabled = await rig.call('POST', `/v1/webhooks/${id}/disable`, {
        as: 'admin',
        body: { reason: 'maintenance' },
      });
      expect(disabled.body).toMatchObject({
        enabled: false,
        disabledReason: expect.stringContaining('maintenance'),
      });
      expect((await rig.call('DELETE', `/v1/webhooks/${id}`, { as: 'admin' })).status).toBe(204);
      expect((await rig.call('GET', `/v1/webhooks/${id}`, { as: 'admin' })).status).toBe(404);
      await rig.auditSealed();
      const events = await rig.call('GET', `/v1/audit?subjectId=${id}`, { as: 'auditor' });
      expect(events.body.items.map((e: any) => e.action).sort()).toEqual(
        ['webhook.created', 'webhook.deleted', 'webhook.disabled'].sort(),
      );
      expect(JSON.stringify(events.body)).not.toContain(secret);
      // The URL's path (a chat webhook's secret) is not in the audit trail either: its origin is.
      const created = events.body.items.find((e: any) => e.action === 'webhook.created');
      expect(created.details.url).toBe(`${new URL(hook.url).origin}/…`);
    });
  });
});
