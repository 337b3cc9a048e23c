// Four eyes on trust: trusted issuers, role bindings, identity links and environments change only
// when a person other than the proposer approves (linked identities count once); policy activation
// compares persons the same way; the bootstrap file applies to an empty database only.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { type ApiResponse, type ClientName, Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

const hex = (): string => randomBytes(4).toString('hex');

describe('four eyes on trust (changes)', () => {
  // A database of this file's own: linking the two admins into one person must not reach the
  // other files' deployments, and the bootstrap case needs to know what the database held.
  const dbName = `airlock_test_changes_${hex()}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  let rig: Rig;
  let people: string;

  beforeAll(async () => {
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    rig = await Rig.start({}, { databaseUrl: url });
    people = rig.issuers.people;
  });

  afterAll(async () => {
    await rig?.stop();
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });

  const propose = (
    method: 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    as: ClientName = 'admin',
  ): Promise<ApiResponse> => rig.call(method, path, { as, body });
  const approve = (id: string, as: ClientName = 'admin2'): Promise<ApiResponse> =>
    rig.call('POST', `/v1/changes/${id}/approve`, { as });
  const reject = (id: string, comment: string | undefined, as: ClientName): Promise<ApiResponse> =>
    rig.call('POST', `/v1/changes/${id}/reject`, { as, body: comment === undefined ? {} : { comment } });
  const list = async (path: string): Promise<any[]> =>
    (await rig.call('GET', path, { as: 'auditor' })).body.items as any[];

  /** Sealed and pending audit events about a subject, oldest first. */
  async function events(
    subjectType: string,
    subjectId: string,
  ): Promise<Array<{ action: string; actor: string }>> {
    const rows = await rig.sql<{ action: string; subject: string }>(
      `SELECT action, actor->>'subject' AS subject FROM (
         SELECT action, actor, subject_type, subject_id, occurred_at, 0 AS pending, seq::bigint AS n FROM audit_event
         UNION ALL
         SELECT action, actor, subject_type, subject_id, occurred_at, 1, id::bigint FROM audit_pending) e
       WHERE subject_type = $1 AND subject_id = $2 ORDER BY pending, n`,
      [subjectType, subjectId],
    );
    return rows.map((r) => ({ action: r.action, actor: r.subject }));
  }

  /** Proposed (202, nothing applied), then applied by the second admin (200 with the result). */
  async function proposeAndApply(
    method: 'POST' | 'DELETE',
    path: string,
    body: unknown,
    kind: string,
    applied: () => Promise<boolean>,
  ): Promise<{ change: any; result: any }> {
    const proposed = await propose(method, path, body);
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({
      id: expect.any(String),
      kind,
      status: 'proposed',
      summary: expect.any(String),
      payload: expect.any(Object),
      proposedBy: `erin@${people}`,
      createdAt: expect.any(String),
      result: null,
    });
    expect(await applied()).toBe(false);
    expect((await list('/v1/changes?status=proposed&limit=200')).map((c) => c.id)).toContain(
      proposed.body.id,
    );

    const done = await approve(proposed.body.id);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id: proposed.body.id,
      status: 'applied',
      decidedBy: `frank@${people}`,
    });
    expect(await applied()).toBe(true);
    expect((await rig.call('GET', `/v1/changes/${proposed.body.id}`, { as: 'auditor' })).body.status).toBe(
      'applied',
    );
    expect(await events('change', proposed.body.id)).toEqual([
      { action: 'change.proposed', actor: 'erin' },
      { action: 'change.applied', actor: 'frank' },
    ]);
    return { change: done.body, result: done.body.result };
  }

  it('applied the bootstrap file to the empty database it started on', async () => {
    const log = readFileSync(
      join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'),
      'utf8',
    );
    expect(log).toContain('applied bootstrap identities');
  });

  describe('each kind: proposed, nothing applied, approved by another person, applied', () => {
    it('trusted issuers: add and remove', async () => {
      const issuer = `https://issuer-${hex()}.example.com`;
      const trusted = async (): Promise<boolean> =>
        (await list('/v1/trusted-issuers')).some((i) => i.issuer === issuer);
      const added = await proposeAndApply(
        'POST',
        '/v1/trusted-issuers',
        { issuer, kind: 'human', audience: 'airlock' },
        'trusted_issuer.add',
        trusted,
      );
      expect(added.change.summary).toContain(issuer);
      expect(added.result).toMatchObject({ issuer, kind: 'human', createdBy: `frank@${people}` });
      expect(await events('trusted_issuer', issuer)).toEqual([
        { action: 'identity.issuer_trusted', actor: 'frank' },
      ]);

      const removed = await proposeAndApply(
        'DELETE',
        `/v1/trusted-issuers/${added.result.id}`,
        undefined,
        'trusted_issuer.remove',
        async () => !(await trusted()),
      );
      expect(removed.change.payload).toMatchObject({ id: added.result.id, removes: { issuer } });
      expect(removed.result).toEqual({ removed: added.result.id });
    });

    it('role bindings: add and remove (and the grant acts at once)', async () => {
      const body = { role: 'auditor', issuer: people, subject: 'dave' };
      const bound = async (): Promise<boolean> =>
        (await rig.call('GET', '/v1/audit?limit=1', { as: 'noRole' })).status === 200;
      const added = await proposeAndApply('POST', '/v1/role-bindings', body, 'role_binding.add', bound);
      expect(added.change.payload).toEqual(body);
      expect(added.change.summary).toBe(`grant auditor in every environment to subject dave of ${people}`);
      expect(await events('role_binding', added.result.id)).toEqual([
        { action: 'identity.role_bound', actor: 'frank' },
      ]);

      await proposeAndApply(
        'DELETE',
        `/v1/role-bindings/${added.result.id}`,
        undefined,
        'role_binding.remove',
        async () => !(await bound()),
      );
    });

    it('identity links: add and remove', async () => {
      const identity = `handle:someone-${hex()}`;
      const linked = async (): Promise<boolean> =>
        (await list('/v1/identity-links')).some((l) => l.identity === identity);
      const added = await proposeAndApply(
        'POST',
        '/v1/identity-links',
        { identity, person: 'someone' },
        'identity_link.add',
        linked,
      );
      expect(added.result).toMatchObject({ identity, person: 'someone' });
      await proposeAndApply(
        'DELETE',
        `/v1/identity-links/${encodeURIComponent(identity)}`,
        undefined,
        'identity_link.remove',
        async () => !(await linked()),
      );
      expect(await events('identity', identity)).toEqual([
        { action: 'identity.linked', actor: 'frank' },
        { action: 'identity.unlinked', actor: 'frank' },
      ]);
    });

    it('environments: sources, target and credential profiles', async () => {
      const name = `chg-${hex()}`;
      // A credential profile names a secret the operator provides, at a trusted issuer.
      await rig.writeSecret('airlock-promoter', 'not-a-real-secret');
      const credentials = {
        issuer: people,
        clientId: 'airlock-promoter',
        clientSecretName: 'airlock-promoter',
        services: ['registry.prod.example.com'],
      };
      const body = {
        name,
        sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}', credentials },
      };
      const { change, result } = await proposeAndApply(
        'POST',
        '/v1/environments',
        body,
        'environment.create',
        async () => (await rig.call('GET', `/v1/environments/${name}`, { as: 'auditor' })).status === 200,
      );
      expect(change.payload).toEqual(body);
      expect(change.summary).toContain(`create environment ${name}`);
      expect(result).toMatchObject({ name, target: { credentials: { clientId: 'airlock-promoter' } } });
      expect((await events('environment', name)).map((e) => e.action)).toEqual(['environment.created']);
    });
  });

  it('refuses the proposer (403 four_eyes_required), leaving the change proposed', async () => {
    const p = await propose('POST', '/v1/role-bindings', {
      role: 'auditor',
      issuer: people,
      subject: 'nobody',
    });
    expect(p.status).toBe(202);
    const self = await approve(p.body.id, 'admin');
    expect(self).toMatchObject({ status: 403, body: { code: 'four_eyes_required' } });
    expect((await rig.call('GET', `/v1/changes/${p.body.id}`, { as: 'admin' })).body.status).toBe('proposed');
    // Nor may someone without the admin role approve it.
    expect((await approve(p.body.id, 'approver')).status).toBe(403);
    expect((await approve(p.body.id, 'auditor')).status).toBe(403);
    expect((await reject(p.body.id, 'cleaning up', 'admin')).body.status).toBe('withdrawn');
  });

  it('rejects (another admin, with a comment) and withdraws (the proposer); neither applies', async () => {
    const issuer = `https://rejected-${hex()}.example.com`;
    const a = await propose('POST', '/v1/trusted-issuers', { issuer, kind: 'ci', audience: 'airlock' });
    expect((await reject(a.body.id, undefined, 'admin2')).status).toBe(400);
    const rejected = await reject(a.body.id, 'not an issuer we use', 'admin2');
    expect(rejected).toMatchObject({
      status: 200,
      body: { status: 'rejected', comment: 'not an issuer we use', decidedBy: `frank@${people}` },
    });
    expect(await approve(a.body.id)).toMatchObject({ status: 409, body: { code: 'conflict' } });

    const b = await propose('POST', '/v1/trusted-issuers', { issuer, kind: 'ci', audience: 'airlock' });
    const withdrawn = await reject(b.body.id, 'typo', 'admin');
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', decidedBy: `erin@${people}` });
    expect((await list('/v1/trusted-issuers')).some((i) => i.issuer === issuer)).toBe(false);
    expect((await events('change', a.body.id)).map((e) => e.action)).toEqual([
      'change.proposed',
      'change.rejected',
    ]);
    expect((await events('change', b.body.id)).map((e) => e.action)).toEqual([
      'change.proposed',
      'change.withdrawn',
    ]);
  });

  it('lists changes by status, newest first, a page at a time', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await propose('POST', '/v1/identity-links', {
        identity: `handle:page-${hex()}`,
        person: 'p',
      });
      made.push(p.body.id);
    }
    await reject(made[0], 'not this one', 'admin2');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await rig.call(
        'GET',
        `/v1/changes?status=proposed&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { as: 'auditor' },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((c: any) => c.id));
      expect(page.body.items.every((c: any) => c.status === 'proposed')).toBe(true);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.indexOf(made[2])).toBeLessThan(seen.indexOf(made[1]));
    expect(seen).not.toContain(made[0]);
    expect((await list('/v1/changes?status=rejected')).map((c) => c.id)).toContain(made[0]);
    for (const id of made.slice(1)) await reject(id, 'done with the listing', 'admin');
  });

  it('a change that can no longer apply answers 409 and is marked failed, changing nothing', async () => {
    const name = `twice-${hex()}`;
    const body = {
      name,
      sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
      target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
    };
    const first = await propose('POST', '/v1/environments', body);
    const second = await propose('POST', '/v1/environments', { ...body, description: 'the other one' });
    expect((await approve(first.body.id)).status).toBe(200);
    const late = await approve(second.body.id);
    expect(late).toMatchObject({ status: 409, body: { code: 'conflict', details: { reason: 'conflict' } } });
    const failed = (await rig.call('GET', `/v1/changes/${second.body.id}`, { as: 'auditor' })).body;
    expect(failed).toMatchObject({ status: 'failed', comment: expect.stringContaining('already exists') });
    expect((await rig.call('GET', `/v1/environments/${name}`, { as: 'auditor' })).body.description).toBe('');
    expect((await events('change', second.body.id)).map((e) => e.action)).toEqual([
      'change.proposed',
      'change.failed',
    ]);
    // Proposing it now is refused at once: the owning service's checks run at proposal time.
    expect(await propose('POST', '/v1/environments', body)).toMatchObject({ status: 409 });
  });

  describe('a second account linked to the same person counts once', () => {
    let aliceAdmin = '';

    beforeAll(async () => {
      // A third admin (alice), to undo the link afterwards: erin and frank are one person meanwhile.
      aliceAdmin = (
        await rig.trustChange('POST', '/v1/role-bindings', {
          role: 'admin',
          issuer: people,
          subject: 'alice',
        })
      ).id;
      // frank's account is linked to erin's person (erin unlinked: her identity key is her person).
      await rig.trustChange('POST', '/v1/identity-links', {
        identity: `frank@${people}`,
        person: `erin@${people}`,
      });
    });

    afterAll(async () => {
      const unlink = await propose('DELETE', `/v1/identity-links/${encodeURIComponent(`frank@${people}`)}`);
      await rig.approveChange(unlink, 'approver');
      await rig.trustChange('DELETE', `/v1/role-bindings/${aliceAdmin}`);
    });

    it('frank cannot approve erin’s change, nor erin frank’s; alice can', async () => {
      const p = await propose('POST', '/v1/role-bindings', {
        role: 'auditor',
        issuer: people,
        subject: 'carol',
      });
      expect(await approve(p.body.id, 'admin2')).toMatchObject({
        status: 403,
        body: { code: 'four_eyes_required' },
      });
      const q = await propose(
        'POST',
        '/v1/role-bindings',
        { role: 'auditor', issuer: people, subject: 'carol' },
        'admin2',
      );
      expect(await approve(q.body.id, 'admin')).toMatchObject({
        status: 403,
        body: { code: 'four_eyes_required' },
      });
      // frank's reject of erin's change is a withdrawal: the same person took it back.
      expect((await reject(q.body.id, 'one is enough', 'admin')).body.status).toBe('withdrawn');
      const applied = await approve(p.body.id, 'approver');
      expect(applied.status).toBe(200);
      // Undone by alice too: frank cannot approve what erin proposes while they are one person.
      await rig.approveChange(
        await propose('DELETE', `/v1/role-bindings/${applied.body.result.id}`),
        'approver',
      );
    });

    it('policy activation: frank cannot activate the version erin added (403 four_eyes_required)', async () => {
      const env = `linked-${hex()}`;
      const created = await propose('POST', '/v1/environments', {
        name: env,
        sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
      });
      await rig.approveChange(created, 'approver');
      const v = await rig.call('POST', `/v1/environments/${env}/policies`, {
        as: 'admin',
        body: { document: { approvals: { required: 0 } } },
      });
      expect(v.status).toBe(201);
      const activate = await rig.call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
        as: 'admin2',
      });
      expect(activate).toMatchObject({ status: 403, body: { code: 'four_eyes_required' } });
      expect(
        (await rig.call('GET', `/v1/environments/${env}`, { as: 'auditor' })).body.activePolicyVersion,
      ).toBeNull();
    });
  });

  it('policy activation only goes forward: an earlier version is not activated again by one admin', async () => {
    // v1 was added by erin and activated by frank; v2 likewise. Going back to v1 would weaken the
    // environment with an old second consent: it must be a new version another person activates.
    const env = `forward-${hex()}`;
    await rig.environment(env, { approvals: { required: 0 } });
    const v2 = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 1 } } },
    });
    expect(v2.status).toBe(201);
    const on = await rig.call('POST', `/v1/environments/${env}/policies/${v2.body.version}/activate`, {
      as: 'admin2',
    });
    expect(on.status).toBe(200);
    const back = await rig.call('POST', `/v1/environments/${env}/policies/1/activate`, { as: 'admin2' });
    expect(back).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(back.body.detail).toContain('new version');
    expect(
      (await rig.call('GET', `/v1/environments/${env}`, { as: 'auditor' })).body.activePolicyVersion,
    ).toBe(v2.body.version);
  });

  it('ignores the bootstrap file once the database holds anything (and says so)', async () => {
    const before = await rig.sql('SELECT count(*)::int AS n FROM role_binding');
    await rig.stack.api?.stop();
    await rig.stack.startApi();
    const log = readFileSync(
      join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'api.log'),
      'utf8',
    );
    expect(log).toContain('bootstrap file ignored');
    expect(await rig.sql('SELECT count(*)::int AS n FROM role_binding')).toEqual(before);
  });
});
