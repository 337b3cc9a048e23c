import { randomBytes } from 'node:crypto';
import { artifact, type ClientName, digest, Rig } from '../support/rig';

/**
 * The promotions API end to end: intake, reads, lists and paging, cancellation and policy pinning,
 * against the real API and worker processes, asserting on answers and on the database.
 */
describe('promotions', () => {
  let rig: Rig;
  let requesterKey: string;
  let otherRepoKey: string;
  const uid = (): string => randomBytes(3).toString('hex');
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  /** A CI token's jti creates at most one promotion: every create gets a fresh token. */
  async function create(
    body: Record<string, unknown>,
    o: { as?: ClientName; headers?: Record<string, string> } = {},
  ): Promise<any> {
    const token = await rig.token(o.as ?? 'requester', { fresh: true });
    return rig.call('POST', '/v1/promotions', { token, body, headers: o.headers });
  }

  async function created(env: string, seed: string, as: ClientName = 'requester'): Promise<string> {
    // A CI workload requests its own repository's artifacts (ci-other's is acme/other).
    const repository = as === 'otherRepo' ? 'acme/other' : 'acme/app';
    const res = await create({ artifact: artifact(repository, seed), environment: env }, { as });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  async function envRow(name: string): Promise<{ id: string; active_policy_version_id: string | null }> {
    const [row] = await rig.sql('SELECT id, active_policy_version_id FROM environment WHERE name = $1', [
      name,
    ]);
    return row;
  }

  async function history(id: string): Promise<Array<{ from_status: string | null; to_status: string }>> {
    return rig.sql(
      'SELECT from_status, to_status, actor, reason FROM promotion_status_change WHERE promotion_id = $1 ORDER BY id',
      [id],
    );
  }

  /** Row counts of everything a promotion request could write, once earlier work has settled. */
  async function counts(): Promise<Record<string, number>> {
    const busy = async (): Promise<boolean> =>
      (
        await rig.sql(
          "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM promotion WHERE status IN ('received', 'checking')) AS n",
        )
      )[0].n !== '0';
    const until = Date.now() + 10_000;
    while ((await busy()) && Date.now() < until) await sleep(50);
    const tables = ['promotion', 'promotion_status_change', 'idempotency_key', 'outbox'];
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = (await rig.sql(`SELECT count(*)::int AS n FROM ${t}`))[0].n;
    return out;
  }

  async function auditActions(id: string): Promise<any[]> {
    await rig.auditSealed();
    const res = await rig.call('GET', `/v1/audit?subjectType=promotion&subjectId=${id}&limit=500`, {
      as: 'auditor',
    });
    expect(res.status).toBe(200);
    return res.body.items;
  }

  beforeAll(async () => {
    rig = await Rig.start();
    requesterKey = (await rig.call('GET', '/v1/whoami', { as: 'requester' })).body.identity;
    otherRepoKey = (await rig.call('GET', '/v1/whoami', { as: 'otherRepo' })).body.identity;
  });
  afterAll(async () => {
    await rig?.stop();
  });

  describe('create', () => {
    it('answers 201 with Location and the promotion, pinned to the active policy', async () => {
      const env = `pr-create-${uid()}`;
      await rig.environment(env);
      const art = artifact('acme/app', `${env}-1`);
      const res = await create({ artifact: art, environment: env, metadata: { build: '42' } });
      expect(res.status).toBe(201);
      const p = res.body;
      expect(res.headers.get('location')).toBe(`/v1/promotions/${p.id}`);
      expect(p).toMatchObject({
        status: 'received',
        artifact: art,
        sourceRegistry: 'registry.staging.example.com',
        sourceRepository: 'acme/app',
        digest: digest(`${env}-1`),
        tag: null,
        environment: env,
        target: `registry.prod.example.com/prod/acme/app@${digest(`${env}-1`)}`,
        requester: requesterKey,
        metadata: { build: '42' },
        reasons: [],
      });
      expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.claims).toMatchObject({ repository: 'acme/app', ref: 'refs/heads/main', actor: 'carol' });
      expect(new Date(p.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

      // The pinned policy is the one active on the environment, by number and by content hash.
      const envView = (await rig.call('GET', `/v1/environments/${env}`, { as: 'auditor' })).body;
      const policy = (
        await rig.call('GET', `/v1/environments/${env}/policies/${envView.activePolicyVersion}`, {
          as: 'auditor',
        })
      ).body;
      expect(p.policyVersion).toBe(policy.version);
      expect(p.policySha256).toBe(policy.sha256);

      const e = await envRow(env);
      const [row] = await rig.sql('SELECT * FROM promotion WHERE id = $1', [p.id]);
      expect(row).toMatchObject({
        environment_id: e.id,
        policy_version_id: e.active_policy_version_id,
        policy_sha256: policy.sha256,
        source_registry: 'registry.staging.example.com',
        source_repository: 'acme/app',
        digest: digest(`${env}-1`),
        requester_key: requesterKey,
        metadata: { build: '42' },
      });
      expect(row.token_jti).toEqual(expect.any(String));

      const done = await rig.waitForStatus(p.id, ['approved']);
      expect(done.history.map((h: any) => h.to)).toEqual(['received', 'checking', 'approved']);
      expect((await history(p.id)).map((h) => [h.from_status, h.to_status])).toEqual([
        [null, 'received'],
        ['received', 'checking'],
        ['checking', 'approved'],
      ]);
    });

    it('refuses a source the environment does not allow (422), writing nothing', async () => {
      const env = `pr-src-${uid()}`;
      await rig.environment(env);
      const before = await counts();
      const token = await rig.token('requester', { fresh: true });
      for (const art of [
        `evil.example.com/acme/app@${digest(1)}`, // registry not allowed
        `registry.staging.example.com/other/app@${digest(1)}`, // repository outside the patterns
      ]) {
        const res = await rig.call('POST', '/v1/promotions', {
          token,
          body: { artifact: art, environment: env },
          headers: { 'idempotency-key': `src-${uid()}` },
        });
        expect(res.status).toBe(422);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.code).toBe('source_not_allowed');
      }
      expect(await counts()).toEqual(before);
      // The refused requests did not spend the token.
      const ok = await rig.call('POST', '/v1/promotions', {
        token,
        body: { artifact: artifact('acme/app', `${env}-ok`), environment: env },
      });
      expect(ok.status).toBe(201);
    });

    it('refuses an environment with no active policy (422 no_active_policy), writing nothing', async () => {
      const env = `pr-nopol-${uid()}`;
      const made = await rig.trustChange('POST', '/v1/environments', {
        name: env,
        sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
      });
      expect(made.name).toBe(env);
      const before = await counts();
      const body = { artifact: artifact('acme/app', `${env}-1`), environment: env };
      const res = await create(body, { headers: { 'idempotency-key': `nopol-${uid()}` } });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('no_active_policy');
      // A version that was added but not activated does not count either.
      const added = await rig.call('POST', `/v1/environments/${env}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 0 } } },
      });
      expect(added.status).toBe(201);
      const again = await create(body);
      expect(again.status).toBe(422);
      expect(again.body.code).toBe('no_active_policy');
      expect(await counts()).toEqual(before);
    });

    it('answers 404 for an unknown environment, writing nothing', async () => {
      const before = await counts();
      const res = await create({
        artifact: artifact('acme/app', 'nowhere'),
        environment: `nowhere-${uid()}`,
      });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(await counts()).toEqual(before);
    });

    it('ends in awaiting_approval when the policy requires approvals', async () => {
      const env = `pr-await-${uid()}`;
      await rig.environment(env, { approvals: { required: 2 } });
      const id = await created(env, `${env}-1`);
      const p = await rig.waitForStatus(id, ['awaiting_approval']);
      expect(p.history.map((h: any) => h.to)).toEqual(['received', 'checking', 'awaiting_approval']);
      await sleep(300); // and stays there
      const [row] = await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]);
      expect(row.status).toBe('awaiting_approval');
    });
  });

  describe('read', () => {
    it('returns the promotion with its checks, approvals and history, as the database has them', async () => {
      const env = `pr-read-${uid()}`;
      await rig.environment(env);
      const id = await created(env, `${env}-1`);
      await rig.waitForStatus(id, ['approved']);
      for (const as of ['auditor', 'approver', 'requester', 'admin'] as const) {
        const res = await rig.call('GET', `/v1/promotions/${id}`, { as });
        expect(res.status).toBe(200);
        expect(res.body.id).toBe(id);
      }
      const p = (await rig.call('GET', `/v1/promotions/${id}`, { as: 'auditor' })).body;
      expect(p.status).toBe('approved');
      expect(Array.isArray(p.checks)).toBe(true);
      expect(Array.isArray(p.approvals)).toBe(true);
      const checks = await rig.sql('SELECT kind, status FROM promotion_check WHERE promotion_id = $1', [id]);
      expect(p.checks.map((c: any) => [c.kind, c.status]).sort()).toEqual(
        checks.map((c) => [c.kind, c.status]).sort(),
      );
      const approvals = await rig.sql('SELECT count(*)::int AS n FROM approval WHERE promotion_id = $1', [
        id,
      ]);
      expect(p.approvals).toHaveLength(approvals[0].n);
      const rows = await history(id);
      expect(p.history).toHaveLength(rows.length);
      p.history.forEach((h: any, i: number) => {
        expect(h.from).toBe(rows[i].from_status);
        expect(h.to).toBe(rows[i].to_status);
        expect(typeof h.actor).toBe('string');
        expect(typeof h.reason).toBe('string');
        expect(Number.isNaN(Date.parse(h.at))).toBe(false);
      });
      expect(p.history[0]).toMatchObject({ from: null, to: 'received', actor: requesterKey });
      expect(p.history[1].actor).toBe('worker@airlock');
    });

    it('answers 404 for a promotion that does not exist', async () => {
      const res = await rig.call('GET', '/v1/promotions/00000000-0000-4000-8000-000000000000', {
        as: 'auditor',
      });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    });

    it('records an audit event for the request and for every transition', async () => {
      const env = `pr-audit-${uid()}`;
      await rig.environment(env);
      const id = await created(env, `${env}-1`);
      await rig.waitForStatus(id, ['approved']);
      const events = await auditActions(id);
      expect(events.map((e) => e.action)).toEqual([
        'promotion.requested',
        'promotion.checking',
        'promotion.approved',
      ]);
      expect(events[0].actor).toMatchObject({ kind: 'ci' });
      expect(events[0].details).toMatchObject({ artifact: artifact('acme/app', `${env}-1`) });
      expect(events[1].details).toMatchObject({ from: 'received', to: 'checking' });
      expect(events[2].details).toMatchObject({ from: 'checking', to: 'approved' });
      expect(events[1].actor).toEqual({ kind: 'system', issuer: 'airlock', subject: 'worker' });
      // Chained: each event names its predecessor's hash (the chain is global, so seqs only grow).
      const seqs = events.map((e) => BigInt(e.seq));
      expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    });
  });

  describe('list', () => {
    it('filters by status, environment, requester and digest, newest first, with a limit', async () => {
      const env = `pr-list-${uid()}`;
      await rig.environment(env, { approvals: { required: 1 } });
      const a = await created(env, `${env}-a`);
      const b = await created(env, `${env}-b`);
      const c = await created(env, `${env}-c`, 'otherRepo');
      const d = await created(env, `${env}-a`); // same digest as a
      for (const id of [a, b, c, d]) await rig.waitForStatus(id, ['awaiting_approval']);
      expect((await rig.call('POST', `/v1/promotions/${b}/cancel`, { as: 'admin', body: {} })).status).toBe(
        200,
      );
      const list = async (q: string): Promise<any> => {
        const res = await rig.call('GET', `/v1/promotions?${q}`, { as: 'auditor' });
        expect(res.status).toBe(200);
        return res.body;
      };
      const ids = (page: any): string[] => page.items.map((p: any) => p.id);
      const e = await envRow(env);
      const dbOrder = (
        await rig.sql('SELECT id FROM promotion WHERE environment_id = $1 ORDER BY seq DESC', [e.id])
      ).map((r) => r.id);

      expect(ids(await list(`environment=${env}`))).toEqual([d, c, b, a]);
      expect(ids(await list(`environment=${env}`))).toEqual(dbOrder);
      expect(ids(await list(`environment=${env}&status=cancelled`))).toEqual([b]);
      expect(ids(await list(`environment=${env}&status=awaiting_approval`))).toEqual([d, c, a]);
      expect(ids(await list(`environment=${env}&status=approved`))).toEqual([]);
      expect(ids(await list(`environment=${env}&requester=${encodeURIComponent(otherRepoKey)}`))).toEqual([
        c,
      ]);
      expect(ids(await list(`environment=${env}&requester=${encodeURIComponent(requesterKey)}`))).toEqual([
        d,
        b,
        a,
      ]);
      expect(ids(await list(`digest=${digest(`${env}-a`)}`))).toEqual([d, a]);
      expect(
        ids(await list(`digest=${digest(`${env}-a`)}&status=awaiting_approval&environment=${env}`)),
      ).toEqual([d, a]);
      expect(ids(await list(`environment=nothing-${uid()}`))).toEqual([]);

      // Without an environment, each filter still holds on every item.
      const byRequester = await list(`requester=${encodeURIComponent(otherRepoKey)}&limit=200`);
      expect(byRequester.items.every((p: any) => p.requester === otherRepoKey)).toBe(true);
      const byStatus = await list('status=cancelled&limit=200');
      expect(byStatus.items.every((p: any) => p.status === 'cancelled')).toBe(true);
      expect(ids(byStatus)).toContain(b);

      const first = await list(`environment=${env}&limit=3`);
      expect(ids(first)).toEqual([d, c, b]);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await list(`environment=${env}&limit=3&cursor=${first.nextCursor}`);
      expect(ids(second)).toEqual([a]);
      expect(second.nextCursor).toBeNull();
      const exact = await list(`environment=${env}&limit=4`);
      expect(ids(exact)).toEqual([d, c, b, a]);
      expect(exact.nextCursor).toBeNull();

      const item = (await list(`environment=${env}&status=cancelled`)).items[0];
      expect(item).toMatchObject({ id: b, environment: env, status: 'cancelled', requester: requesterKey });
      expect(item.history).toBeUndefined(); // lists carry the summary view
    });

    it('pages without skipping or repeating rows while promotions are inserted concurrently', async () => {
      const env = `pr-page-${uid()}`;
      await rig.environment(env, { approvals: { required: 1 } });
      const existing: string[] = [];
      for (let i = 0; i < 12; i++) existing.push(await created(env, `${env}-pre-${i}`));

      const inserted: string[] = [];
      const inserter = (async () => {
        for (let i = 0; i < 8; i++) {
          inserted.push(await created(env, `${env}-new-${i}`));
          await sleep(5);
        }
      })();
      const seen: string[] = [];
      let pages = 0;
      let cursor: string | null = null;
      do {
        const q: string = `environment=${env}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await rig.call('GET', `/v1/promotions?${q}`, { as: 'auditor' });
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((p: any) => p.id));
        cursor = res.body.nextCursor;
        pages++;
        await sleep(25); // let inserts land between pages
      } while (cursor);
      await inserter;

      expect(pages).toBeGreaterThanOrEqual(4);
      expect(new Set(seen).size).toBe(seen.length); // nothing repeated
      for (const id of existing) expect(seen.filter((s) => s === id)).toHaveLength(1); // nothing skipped
      for (const id of seen) expect([...existing, ...inserted]).toContain(id);
      // Pages walk strictly down the insertion sequence.
      const seqs = await rig.sql('SELECT id, seq FROM promotion WHERE id = ANY($1::uuid[])', [seen]);
      const seqOf = new Map(seqs.map((r) => [r.id, BigInt(r.seq)]));
      for (let i = 1; i < seen.length; i++) {
        expect(seqOf.get(seen[i])! < seqOf.get(seen[i - 1])!).toBe(true);
      }
      // A fresh walk sees all 20.
      const all = await rig.call('GET', `/v1/promotions?environment=${env}&limit=200`, { as: 'auditor' });
      expect(all.body.items).toHaveLength(20);
    });
  });

  describe('cancel', () => {
    let env: string;
    beforeAll(async () => {
      env = `pr-cancel-${uid()}`;
      await rig.environment(env, { approvals: { required: 1 } });
    });
    const waiting = async (seed: string): Promise<string> => {
      const id = await created(env, `${env}-${seed}`);
      await rig.waitForStatus(id, ['awaiting_approval']);
      return id;
    };
    const cancelRows = async (id: string): Promise<any[]> =>
      rig.sql(
        "SELECT from_status, to_status, actor, reason FROM promotion_status_change WHERE promotion_id = $1 AND to_status = 'cancelled'",
        [id],
      );

    it('lets the requester cancel, with a reason kept in history, reasons and audit', async () => {
      const id = await waiting('req');
      const res = await rig.call('POST', `/v1/promotions/${id}/cancel`, {
        as: 'requester',
        body: { reason: 'superseded by a newer build' },
      });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
      expect(res.body.reasons).toEqual([`cancelled by ${requesterKey}: superseded by a newer build`]);
      expect(res.body.history.at(-1)).toMatchObject({
        from: 'awaiting_approval',
        to: 'cancelled',
        actor: requesterKey,
        reason: 'superseded by a newer build',
      });
      const rows = await cancelRows(id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        from_status: 'awaiting_approval',
        reason: 'superseded by a newer build',
      });
      const [p] = await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]);
      expect(p.status).toBe('cancelled');
      const actions = (await auditActions(id)).map((e) => e.action);
      expect(actions.filter((a) => a === 'promotion.cancelled')).toHaveLength(1);
    });

    it('lets an admin cancel', async () => {
      const id = await waiting('admin');
      const res = await rig.call('POST', `/v1/promotions/${id}/cancel`, { as: 'admin', body: {} });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
      expect((await cancelRows(id))[0].actor).toMatchObject({ kind: 'human', subject: 'erin' });
    });

    it('refuses an approver or another repository that did not request it (403), changing nothing', async () => {
      const id = await waiting('forbidden');
      for (const as of ['approver', 'otherRepo', 'auditor', 'noRole'] as const) {
        const res = await rig.call('POST', `/v1/promotions/${id}/cancel`, { as, body: {} });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      const [p] = await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]);
      expect(p.status).toBe('awaiting_approval');
      expect(await cancelRows(id)).toHaveLength(0);
    });

    it('refuses to cancel a terminal promotion (409) and an unknown one (404)', async () => {
      const id = await waiting('terminal');
      expect((await rig.call('POST', `/v1/promotions/${id}/cancel`, { as: 'admin', body: {} })).status).toBe(
        200,
      );
      const again = await rig.call('POST', `/v1/promotions/${id}/cancel`, { as: 'requester', body: {} });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('conflict');
      expect(await cancelRows(id)).toHaveLength(1);
      const missing = await rig.call('POST', '/v1/promotions/00000000-0000-4000-8000-000000000000/cancel', {
        as: 'admin',
        body: {},
      });
      expect(missing.status).toBe(404);
    });

    it('of two concurrent cancels exactly one wins, with one history row', async () => {
      const ids = await Promise.all(['race-1', 'race-2', 'race-3'].map((s) => waiting(s)));
      for (const id of ids) {
        const answers = await Promise.all([
          rig.call('POST', `/v1/promotions/${id}/cancel`, { as: 'admin', body: { reason: 'admin' } }),
          rig.call('POST', `/v1/promotions/${id}/cancel`, { as: 'requester', body: { reason: 'requester' } }),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        expect(answers.find((a) => a.status === 409)!.body.code).toBe('conflict');
        expect(await cancelRows(id)).toHaveLength(1);
        const events = (await auditActions(id)).filter((e) => e.action === 'promotion.cancelled');
        expect(events).toHaveLength(1);
      }
    });
  });

  describe('policy pinning', () => {
    it('keeps the version active at receipt, even after a new version is activated', async () => {
      const env = `pr-pin-${uid()}`;
      await rig.environment(env, { approvals: { required: 1 } });
      const v1 = (await rig.call('GET', `/v1/environments/${env}/policies/1`, { as: 'auditor' })).body;

      // Received under v1 with no worker running, so the checks run after v2 is active.
      await rig.stack.stopWorker();
      let p1: string;
      try {
        p1 = await created(env, `${env}-1`);
        const added = await rig.call('POST', `/v1/environments/${env}/policies`, {
          as: 'admin',
          body: { document: { approvals: { required: 0 } } },
        });
        expect(added.status).toBe(201);
        const act = await rig.call(
          'POST',
          `/v1/environments/${env}/policies/${added.body.version}/activate`,
          {
            as: 'admin2',
          },
        );
        expect(act.status).toBe(200);
      } finally {
        await rig.stack.startWorker();
      }
      const v2 = (await rig.call('GET', `/v1/environments/${env}/policies/2`, { as: 'auditor' })).body;
      expect(v2.active).toBe(true);
      expect(v2.sha256).not.toBe(v1.sha256);

      // Evaluated under its pinned v1 (one approval), not the active v2 (none).
      const first = await rig.waitForStatus(p1, ['awaiting_approval', 'approved']);
      expect(first.status).toBe('awaiting_approval');
      expect(first).toMatchObject({ policyVersion: 1, policySha256: v1.sha256 });
      const p2 = await created(env, `${env}-2`);
      const second = await rig.waitForStatus(p2, ['approved', 'awaiting_approval']);
      expect(second).toMatchObject({ status: 'approved', policyVersion: 2, policySha256: v2.sha256 });

      const rows = await rig.sql(
        'SELECT p.id, pv.version, p.policy_sha256 FROM promotion p JOIN policy_version pv ON pv.id = p.policy_version_id WHERE p.id = ANY($1::uuid[])',
        [[p1, p2]],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(p1)).toMatchObject({ version: 1, policy_sha256: v1.sha256 });
      expect(byId.get(p2)).toMatchObject({ version: 2, policy_sha256: v2.sha256 });
    });
  });
});
