// The audit trail: every state transition, admin change and a verified caller's refused mutating
// request is an event in one linear hash chain that the database refuses to change; the API
// verifies it, reports the first broken link or the first signed checkpoint a rewritten history no
// longer matches, and exports it for offline verification. Nothing secret ends up in it or in the logs.
//
// This file breaks the chain on purpose, so it runs on a database of its own (the run's shared one
// stays intact for every other file) and repairs each break before the next test.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PoolClient } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../../apps/devstack/database';
import {
  type AuditCheckpoint,
  type ChainLink,
  chainHash,
  GENESIS_HASH,
  verifyAuditChain,
} from '../../libs/domain';
import { CLIENTS, artifact, Rig } from '../support/rig';
import { testEnv } from '../support/test-env';

const hex = (): string => randomBytes(4).toString('hex');
/** The lock AuditRepository.sealBatch takes: holding it keeps the sealer away while we tamper. */
const SEAL_LOCK = 0x41_75_64_69_74;

interface Row {
  seq: string;
  occurred_at: Date;
  actor: { kind: string; issuer: string; subject: string };
  actor_key: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const linkOf = (r: Row): ChainLink => ({
  seq: r.seq,
  occurredAt: r.occurred_at.toISOString(),
  actor: r.actor,
  action: r.action,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

describe('audit trail', () => {
  const dbName = `airlock_test_audit_${hex()}`;
  const adminUrl = testEnv().adminDatabaseUrl;
  let rig: Rig;
  /** Every bearer token this file sent, to make sure none is written anywhere. */
  const tokensUsed = new Set<string>();

  beforeAll(async () => {
    const url = await ensureDatabase(adminUrl, dbName);
    await runMigrations(url);
    // Every verification of this file runs in the worker (no range is short enough to walk inline).
    rig = await Rig.start({ AUDIT_VERIFY_INLINE_MAX_EVENTS: '0' }, { databaseUrl: url });
  });

  afterAll(async () => {
    await rig?.stop();
    if (!process.env.AIRLOCK_TEST_KEEP) await dropDatabase(adminUrl, dbName);
  });

  /** rig.call, remembering the token it used. */
  async function call(
    method: string,
    path: string,
    o: { as?: keyof typeof CLIENTS; token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const token = o.token ?? (o.as ? await rig.token(o.as) : undefined);
    if (token) tokensUsed.add(token);
    return rig.call(method, path, { token, body: o.body, headers: o.headers });
  }

  async function freshRequesterToken(): Promise<string> {
    const token = await rig.token('requester', { fresh: true });
    tokensUsed.add(token);
    return token;
  }

  const envBody = (name: string): unknown => ({
    name,
    sources: [{ registry: 'registry.staging.example.com', repositories: ['acme/*'] }],
    target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
  });

  /** All sealed links, in order, once nothing is pending (GET /v1/audit no longer seals first). */
  async function sealedRows(): Promise<Row[]> {
    await rig.auditSealed();
    return rig.sql<Row>('SELECT * FROM audit_event ORDER BY seq');
  }

  async function verify(): Promise<any> {
    const res = await call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(res.status).toBe(200);
    return res.body;
  }

  async function eventOfRequest(requestId: string): Promise<Row> {
    await sealedRows();
    const rows = await rig.sql<Row>(`SELECT * FROM audit_event WHERE details->>'requestId' = $1`, [
      requestId,
    ]);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  /** Runs `work` as the superuser with the append-only trigger off, holding the sealer's lock. */
  async function behindTheAppsBack(work: (c: PoolClient) => Promise<void>): Promise<void> {
    const c = await rig.db.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
      await c.query('ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update');
      await work(c);
      await c.query('ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update');
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    } finally {
      c.release();
    }
  }

  async function putBack(rows: Row[]): Promise<void> {
    await behindTheAppsBack(async (c) => {
      for (const r of rows) {
        await c.query('DELETE FROM audit_event WHERE seq = $1', [r.seq]);
        await c.query(
          `INSERT INTO audit_event (seq, occurred_at, actor, actor_key, action, subject_type, subject_id, details, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            r.seq,
            r.occurred_at,
            JSON.stringify(r.actor),
            r.actor_key,
            r.action,
            r.subject_type,
            r.subject_id,
            JSON.stringify(r.details),
            r.prev_hash,
            r.hash,
          ],
        );
      }
    });
  }

  /** A few environments: events of our own, after every checkpoint made so far. */
  async function freshEvents(n: number): Promise<Row[]> {
    const names = Array.from({ length: n }, () => `fresh-${hex()}`);
    for (const name of names) await rig.trustChange('POST', '/v1/environments', envBody(name));
    const rows = await sealedRows();
    return names.map(
      (name) => rows.find((r) => r.action === 'environment.created' && r.subject_id === name) as Row,
    );
  }

  /** Starts a verification and polls it to its end. */
  async function verification(start: 'genesis' | 'checkpoint'): Promise<any> {
    const res = await call('POST', '/v1/audit/verifications', { as: 'auditor', body: { start } });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/audit/verifications/${res.body.id}`);
    return finished(res.body.id);
  }

  async function finished(id: string): Promise<any> {
    for (;;) {
      const v = await call('GET', `/v1/audit/verifications/${id}`, { as: 'auditor' });
      expect(v.status).toBe(200);
      if (['completed', 'cancelled', 'errored'].includes(v.body.status)) return v.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  describe('the database guards the chain', () => {
    it('gives the application role only INSERT and SELECT on audit_event', async () => {
      const [p] = await rig.sql(
        `SELECT has_table_privilege('airlock_app', 'audit_event', 'INSERT') AS insert,
                has_table_privilege('airlock_app', 'audit_event', 'SELECT') AS select,
                has_table_privilege('airlock_app', 'audit_event', 'UPDATE') AS update,
                has_table_privilege('airlock_app', 'audit_event', 'DELETE') AS delete,
                has_table_privilege('airlock_app', 'audit_event', 'TRUNCATE') AS truncate`,
      );
      expect(p).toEqual({ insert: true, select: true, update: false, delete: false, truncate: false });

      // As that role, the privilege check refuses before any trigger is asked.
      const c = await rig.db.connect();
      try {
        await c.query('BEGIN');
        await c.query('SET LOCAL ROLE airlock_app');
        await expect(c.query('UPDATE audit_event SET action = action')).rejects.toThrow(/permission denied/);
      } finally {
        await c.query('ROLLBACK');
        c.release();
      }
    });

    it('refuses UPDATE, DELETE and TRUNCATE even from the superuser', async () => {
      await sealedRows(); // bootstrap events at least
      const before = await rig.sql<Row>('SELECT * FROM audit_event ORDER BY seq');
      expect(before.length).toBeGreaterThan(0);
      await expect(rig.sql(`UPDATE audit_event SET action = 'x' WHERE seq = 1`)).rejects.toThrow(
        /audit_event is append-only: UPDATE refused/,
      );
      await expect(rig.sql('DELETE FROM audit_event WHERE seq = 1')).rejects.toThrow(
        /audit_event is append-only: DELETE refused/,
      );
      await expect(rig.sql('TRUNCATE audit_event')).rejects.toThrow(
        /audit_event is append-only: TRUNCATE refused/,
      );
      const after = await rig.sql<Row>(`SELECT * FROM audit_event WHERE seq <= $1 ORDER BY seq`, [
        before[before.length - 1].seq,
      ]);
      expect(after).toEqual(before);
    });
  });

  describe('what is recorded', () => {
    it('records admin changes and every promotion transition', async () => {
      const env = `audit-${hex()}`;
      await rig.environment(env, { approvals: { required: 1 } });
      const created = await call('POST', '/v1/promotions', {
        token: await freshRequesterToken(),
        body: { artifact: artifact('acme/app', `audit-${hex()}`), environment: env },
      });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await rig.waitForStatus(id, ['awaiting_approval']);
      const cancelled = await call('POST', `/v1/promotions/${id}/cancel`, {
        as: 'admin',
        body: { reason: 'not today' },
      });
      expect(cancelled.status).toBe(200);

      // Trust changes: proposed by erin, approved (and so applied) by frank.
      const bindingProposal = await call('POST', '/v1/role-bindings', {
        as: 'admin',
        body: { role: 'approver', issuer: rig.issuers.people, subject: 'carol', environment: env },
      });
      const binding = await rig.approveChange(bindingProposal);
      await rig.trustChange('DELETE', `/v1/role-bindings/${binding.id}`);
      const issuer = await rig.trustChange('POST', '/v1/trusted-issuers', {
        issuer: `https://ci-${hex()}.example.com`,
        kind: 'ci',
        audience: 'airlock',
      });
      await rig.trustChange('DELETE', `/v1/trusted-issuers/${issuer.id}`);

      const rows = await sealedRows();
      const erin = { kind: 'human', issuer: rig.issuers.people, subject: 'erin' };
      const frank = { kind: 'human', issuer: rig.issuers.people, subject: 'frank' };
      const of = (subjectType: string, subjectId: string): Array<Pick<Row, 'action' | 'actor'>> =>
        rows
          .filter((r) => r.subject_type === subjectType && r.subject_id === subjectId)
          .map((r) => ({ action: r.action, actor: r.actor }));

      expect(of('environment', env)).toEqual([
        { action: 'environment.created', actor: frank },
        { action: 'policy.version_added', actor: erin },
        { action: 'policy.activated', actor: frank },
      ]);
      const ci = { kind: 'ci', issuer: rig.issuers.ci, subject: 'repo:acme/app:ref:refs/heads/main' };
      const worker = { kind: 'system', issuer: 'airlock', subject: 'worker' };
      expect(of('promotion', id)).toEqual([
        { action: 'promotion.requested', actor: ci },
        { action: 'promotion.checking', actor: worker },
        { action: 'promotion.awaiting_approval', actor: worker },
        { action: 'promotion.cancelled', actor: erin },
      ]);
      // One event per history entry, saying the same thing.
      const detail = await call('GET', `/v1/promotions/${id}`, { as: 'auditor' });
      const transitions = rows.filter((r) => r.subject_id === id && r.action !== 'promotion.requested');
      expect(transitions.map((r) => [r.details.from, r.details.to])).toEqual(
        detail.body.history.slice(1).map((h: any) => [h.from, h.to]),
      );
      expect(transitions.at(-1)?.details.reason).toBe('not today');

      // With nothing to wait for, the worker takes it straight to approved: also on record.
      const open = `audit-open-${hex()}`;
      await rig.environment(open);
      const quick = await call('POST', '/v1/promotions', {
        token: await freshRequesterToken(),
        body: { artifact: artifact('acme/app', `audit-${hex()}`), environment: open },
      });
      expect(quick.status).toBe(201);
      await rig.waitForStatus(quick.body.id, ['approved']);
      const quickRows = (await sealedRows()).filter((r) => r.subject_id === quick.body.id);
      expect(quickRows.map((r) => [r.action, r.details.from, r.details.to])).toEqual([
        ['promotion.requested', undefined, undefined],
        ['promotion.checking', 'received', 'checking'],
        ['promotion.approved', 'checking', 'approved'],
      ]);

      expect(of('role_binding', binding.id)).toEqual([
        { action: 'identity.role_bound', actor: frank },
        { action: 'identity.role_unbound', actor: frank },
      ]);
      expect(of('trusted_issuer', issuer.issuer)).toEqual([
        { action: 'identity.issuer_trusted', actor: frank },
        { action: 'identity.issuer_removed', actor: frank },
      ]);
      expect(of('change', bindingProposal.body.id)).toEqual([
        { action: 'change.proposed', actor: erin },
        { action: 'change.applied', actor: frank },
      ]);
    });

    it('records every refused mutating request of a verified caller, with who asked and why', async () => {
      const env = `refused-${hex()}`;
      await rig.trustChange('POST', '/v1/environments', envBody(env));
      const alice = { kind: 'human', issuer: rig.issuers.people, subject: 'alice' };
      const erin = { kind: 'human', issuer: rig.issuers.people, subject: 'erin' };
      // Requests without a verified caller are logged and counted, never audited: the trail is
      // append-only, so they must cost nothing durable (trust-boundaries.e2e-spec.ts).
      for (const anonymous of [
        await call('POST', '/v1/environments', { body: envBody(`x-${hex()}`) }),
        await call('POST', '/v1/environments', { token: 'not-a-jwt', body: envBody(`x-${hex()}`) }),
      ]) {
        expect(anonymous.status).toBe(401);
        await sealedRows();
        expect(
          await rig.sql(`SELECT 1 FROM audit_event WHERE details->>'requestId' = $1`, [
            anonymous.body.requestId,
          ]),
        ).toEqual([]);
      }
      const cases: Array<[string, Promise<{ status: number; body: any }>, number, string, object, string]> = [
        [
          'a missing role',
          call('POST', '/v1/environments', { as: 'approver', body: envBody(`x-${hex()}`) }),
          403,
          'forbidden',
          alice,
          'POST /v1/environments',
        ],
        [
          'an unknown field',
          call('POST', '/v1/environments', {
            as: 'admin',
            body: { ...(envBody(`x-${hex()}`) as object), owner: 'me' },
          }),
          400,
          'validation_failed',
          erin,
          'POST /v1/environments',
        ],
        [
          'a duplicate',
          call('POST', '/v1/environments', { as: 'admin', body: envBody(env) }),
          409,
          'conflict',
          erin,
          'POST /v1/environments',
        ],
        [
          'an unknown binding',
          call('DELETE', '/v1/role-bindings/00000000-0000-4000-8000-000000000000', { as: 'admin' }),
          404,
          'not_found',
          erin,
          'DELETE /v1/role-bindings/:id',
        ],
        [
          'four eyes',
          (async () => {
            const v = await call('POST', `/v1/environments/${env}/policies`, {
              as: 'admin',
              body: { document: { approvals: { required: 0 } } },
            });
            return call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
              as: 'admin',
            });
          })(),
          403,
          'four_eyes_required',
          erin,
          'POST /v1/environments/:name/policies/:version/activate',
        ],
      ];
      for (const [name, pending, status, code, actor, route] of cases) {
        const res = await pending;
        expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status, code });
        const event = await eventOfRequest(res.body.requestId);
        expect({
          name,
          action: event.action,
          actor: event.actor,
          subject: `${event.subject_type} ${event.subject_id}`,
        }).toEqual({
          name,
          action: 'request.refused',
          actor,
          subject: `route ${route}`,
        });
        expect(event.details).toMatchObject({ status, code });
      }
      // A refused read is not an event (reads are not recorded at all).
      const read = await call('GET', '/v1/audit', { as: 'approver' });
      expect(read.status).toBe(403);
      await sealedRows();
      expect(
        await rig.sql(`SELECT 1 FROM audit_event WHERE details->>'requestId' = $1`, [read.body.requestId]),
      ).toEqual([]);
    });
  });

  describe('reading the trail', () => {
    it('filters by action, actor and subject and pages with a cursor', async () => {
      const names = Array.from({ length: 7 }, (_, i) => `page-${i}-${hex()}`);
      for (const name of names) await rig.trustChange('POST', '/v1/environments', envBody(name));
      const all = await sealedRows();
      const created = all.filter((r) => r.action === 'environment.created');

      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/v1/audit?action=environment.created&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await call('GET', q, { as: 'auditor' });
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.items);
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 100);
      expect(seen.map((e) => e.seq)).toEqual(created.map((r) => r.seq));
      expect(seen.every((e) => e.action === 'environment.created')).toBe(true);
      expect(pages).toBe(Math.ceil(created.length / 3));

      const erinKey = `erin@${rig.issuers.people}`;
      const byActor = await call('GET', `/v1/audit?actor=${encodeURIComponent(erinKey)}&limit=500`, {
        as: 'admin',
      });
      expect(byActor.body.items.map((e: any) => e.seq)).toEqual(
        all
          .filter((r) => r.actor_key === erinKey)
          .map((r) => r.seq)
          .slice(0, 500),
      );
      const bySubject = await call('GET', `/v1/audit?subjectType=environment&subjectId=${names[3]}`, {
        as: 'auditor',
      });
      expect(bySubject.body.items).toHaveLength(1);
      expect(bySubject.body.items[0]).toMatchObject({
        action: 'environment.created',
        subjectType: 'environment',
        subjectId: names[3],
        // Proposed by erin, applied by frank: the environment's own event is the approver's.
        actor: { subject: 'frank' },
      });
      // Items are chain links: their hashes are those of the table.
      const row = all.find((r) => r.seq === bySubject.body.items[0].seq) as Row;
      expect(bySubject.body.items[0]).toEqual(JSON.parse(JSON.stringify(linkOf(row))));
      const none = await call(
        'GET',
        `/v1/audit?action=environment.created&subjectId=${names[3]}&actor=nobody`,
        { as: 'auditor' },
      );
      expect(none.body).toEqual({ items: [], nextCursor: null, pending: expect.any(Number) });

      for (const bad of [
        'cursor=not-a-cursor',
        'action=DROP%20TABLE',
        'limit=0',
        'limit=501',
        'subjectType=A',
        'colour=red',
      ]) {
        const res = await call('GET', `/v1/audit?${bad}`, { as: 'auditor' });
        expect({ bad, status: res.status, code: res.body.code }).toEqual({
          bad,
          status: 400,
          code: 'validation_failed',
        });
      }
    });
  });

  describe('one linear chain', () => {
    it('stays linear with 50 concurrent writers in two processes', async () => {
      const names = Array.from({ length: 50 }, (_, i) => `burst-${i}-${hex()}`);
      const promotionEnv = `burst-${hex()}`;
      await rig.environment(promotionEnv, { approvals: { required: 1 } });
      const results = await Promise.all([
        ...names.map((name) => call('POST', '/v1/environments', { as: 'admin', body: envBody(name) })),
        // Refusals are written outside any transaction of the app's, on their own.
        ...names
          .slice(0, 25)
          .map(() => call('POST', '/v1/environments', { as: 'auditor', body: envBody(`no-${hex()}`) })),
        // And the worker seals too: promotions move there while the API writes.
        ...[1, 2, 3].map(async () =>
          call('POST', '/v1/promotions', {
            token: await freshRequesterToken(),
            body: { artifact: artifact('acme/app', `burst-${hex()}`), environment: promotionEnv },
          }),
        ),
      ]);
      // (Proposals: each writes its own event; nothing is applied.)
      expect(results.slice(0, 50).map((r) => r.status)).toEqual(names.map(() => 202));
      expect(results.slice(50, 75).map((r) => r.status)).toEqual(names.slice(0, 25).map(() => 403));
      expect(results.slice(75).map((r) => r.status)).toEqual([201, 201, 201]);
      for (const r of results.slice(75)) await rig.waitForStatus(r.body.id, ['awaiting_approval']);

      const rows = await sealedRows();
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => String(i + 1)));
      rows.forEach((r, i) => {
        expect(r.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash);
        expect(r.hash).toBe(chainHash(linkOf(r), r.prev_hash));
      });
      for (const r of results.slice(0, 50)) {
        expect(rows.filter((e) => e.action === 'change.proposed' && e.subject_id === r.body.id)).toHaveLength(
          1,
        );
      }
      expect(await rig.sql('SELECT 1 FROM audit_pending')).toEqual([]);
      const report = await verify();
      expect(report).toMatchObject({ ok: true, firstBrokenLink: null, firstCheckpointMismatch: null });
      expect(report.checked).toBeGreaterThanOrEqual(rows.length);
    });

    it('verifies a clean chain and reports its head', async () => {
      const rows = await sealedRows();
      const report = await verify();
      expect(report).toEqual({
        ok: true,
        pending: expect.any(Number),
        checked: Number(report.head.seq),
        head: { seq: report.head.seq, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        firstBrokenLink: null,
        checkpointsChecked: expect.any(Number),
        checkpointsMatched: report.checkpointsChecked,
        firstCheckpointMismatch: null,
      });
      expect(Number(report.head.seq)).toBeGreaterThanOrEqual(rows.length);
      const [head] = await rig.sql<Row>('SELECT * FROM audit_event WHERE seq = $1', [report.head.seq]);
      expect(head.hash).toBe(report.head.hash);

      // A signed checkpoint of the head is then checked by every later verification.
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      expect(cp.status).toBe(201);
      expect(cp.body).toMatchObject({
        seq: expect.any(String),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      const after = await verify();
      expect(after.ok).toBe(true);
      expect(after.checkpointsChecked).toBe(report.checkpointsChecked + 1);
    });

    it('exports NDJSON that verifies offline with the same function', async () => {
      await freshEvents(2);
      await call('POST', '/v1/audit/checkpoints', { as: 'admin' });
      const exported = await fetch(`${rig.stack.apiUrl}/v1/audit/export`, {
        headers: { authorization: `Bearer ${await rig.token('auditor')}` },
      });
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const text = await exported.text();
      expect(text.endsWith('\n')).toBe(true);
      const links = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as ChainLink);
      const cps = await call('GET', '/v1/audit/checkpoints', { as: 'auditor' });
      const checkpoints = cps.body.items as AuditCheckpoint[];
      expect(checkpoints.length).toBeGreaterThanOrEqual(2);

      const offline = await verifyAuditChain(links, checkpoints, cps.body.publicKey);
      const online = await verify();
      expect(offline).toMatchObject({ ok: true, firstBrokenLink: null, firstCheckpointMismatch: null });
      expect(offline.head).toEqual({ seq: links.at(-1)?.seq, hash: links.at(-1)?.hash });
      expect(offline.checkpointsChecked).toBe(checkpoints.length);
      expect(Number(online.head.seq)).toBeGreaterThanOrEqual(Number(offline.head.seq));

      // Offline verification catches an edited export, and a checkpoint signed by someone else.
      const edited = links.map((l) =>
        l.seq === '3' ? { ...l, details: { ...l.details, injected: true } } : l,
      );
      expect((await verifyAuditChain(edited, checkpoints, cps.body.publicKey)).firstBrokenLink).toMatchObject(
        {
          seq: '3',
          problem: 'hash_mismatch',
        },
      );
      const forged = { ...checkpoints[0], signature: Buffer.from('forged').toString('base64') };
      expect((await verifyAuditChain(links, [forged], cps.body.publicKey)).firstCheckpointMismatch).toEqual({
        seq: forged.seq,
        problem: 'checkpoint_signature_invalid',
        keyId: forged.keyId,
      });
    });
  });

  describe('tampering behind the application', () => {
    it('finds a changed row at exactly its seq', async () => {
      const [target] = await freshEvents(3);
      await behindTheAppsBack(async (c) => {
        await c.query(`UPDATE audit_event SET details = details || '{"sources":[]}' WHERE seq = $1`, [
          target.seq,
        ]);
      });
      expect(await verify()).toMatchObject({
        ok: false,
        firstBrokenLink: { seq: target.seq, problem: 'hash_mismatch', found: target.hash },
        head: { seq: String(Number(target.seq) - 1) },
      });
      await putBack([target]);
      expect((await verify()).ok).toBe(true);
    });

    it('finds a changed actor even when the row hash is left alone', async () => {
      const [target] = await freshEvents(2);
      await behindTheAppsBack(async (c) => {
        await c.query(
          // (environment.created is frank's now, who approved the change: make it someone else's.)
          `UPDATE audit_event SET actor = jsonb_set(actor, '{subject}', '"mallory"') WHERE seq = $1`,
          [target.seq],
        );
      });
      expect((await verify()).firstBrokenLink).toMatchObject({ seq: target.seq, problem: 'hash_mismatch' });
      await putBack([target]);
      expect((await verify()).ok).toBe(true);
    });

    it('finds a deleted row at exactly its seq', async () => {
      const [, target] = await freshEvents(3);
      await behindTheAppsBack(async (c) => {
        await c.query('DELETE FROM audit_event WHERE seq = $1', [target.seq]);
      });
      expect(await verify()).toMatchObject({
        ok: false,
        firstBrokenLink: {
          seq: target.seq,
          problem: 'sequence_gap',
          expected: target.seq,
          found: String(Number(target.seq) + 1),
        },
      });
      await putBack([target]);
      expect((await verify()).ok).toBe(true);
    });

    it('reports a history edited and fully re-chained against the last signed checkpoint', async () => {
      const fresh = await freshEvents(3);
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      expect(cp.status).toBe(201);
      const target = fresh[1];
      let original: Row[] = [];
      let newHead = '';
      await behindTheAppsBack(async (c) => {
        // Rewrite one event, then recompute every later hash so that each link holds again.
        const { rows } = await c.query<Row>('SELECT * FROM audit_event WHERE seq >= $1 ORDER BY seq', [
          target.seq,
        ]);
        original = rows;
        let prev = rows[0].prev_hash;
        for (const r of rows) {
          const details = r.seq === target.seq ? { ...r.details, description: 'rewritten' } : r.details;
          const hash = chainHash(linkOf({ ...r, details }), prev);
          await c.query('UPDATE audit_event SET details = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [
            r.seq,
            JSON.stringify(details),
            prev,
            hash,
          ]);
          prev = hash;
        }
        newHead = prev;
      });

      const report = await verify();
      expect(report.firstBrokenLink).toBeNull(); // every link holds
      expect(report).toMatchObject({
        ok: false,
        firstCheckpointMismatch: {
          seq: cp.body.seq,
          problem: 'checkpoint_mismatch',
          expected: cp.body.hash,
          found: newHead,
        },
      });
      await putBack(original);
      expect((await verify()).ok).toBe(true);
    });

    it('reports events cut from the end after a checkpoint', async () => {
      const fresh = await freshEvents(2);
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      expect(Number(cp.body.seq)).toBeGreaterThanOrEqual(Number(fresh[1].seq));
      let cut: Row[] = [];
      await behindTheAppsBack(async (c) => {
        cut = (await c.query<Row>('SELECT * FROM audit_event WHERE seq >= $1 ORDER BY seq', [fresh[0].seq]))
          .rows;
        await c.query('DELETE FROM audit_event WHERE seq >= $1', [fresh[0].seq]);
      });
      expect(await verify()).toMatchObject({
        ok: false,
        firstBrokenLink: null,
        head: { seq: String(Number(fresh[0].seq) - 1) },
        firstCheckpointMismatch: { seq: cp.body.seq, problem: 'checkpoint_beyond_head' },
      });
      await putBack(cut);
      expect((await verify()).ok).toBe(true);
    });
  });

  describe('secrets', () => {
    it('writes no token, secret or Authorization value to the logs or the audit trail', async () => {
      // Refused tokens are the likeliest to be logged "for debugging": send some first.
      const real = await rig.token('admin', { fresh: true });
      const [h, , s] = real.split('.');
      const tampered = `${h}.${Buffer.from('{"sub":"erin"}').toString('base64url')}.${s}`;
      for (const token of [real, tampered, 'not-a-jwt-0123456789abcdef', `${real}x`]) {
        await call('POST', '/v1/environments', { token, body: envBody(`secret-${hex()}`) });
        await call('GET', '/v1/whoami', { token });
      }
      await call('POST', '/v1/environments', {
        headers: { authorization: 'Basic ZXJpbjplcmluLXNlY3JldA==' },
        body: envBody(`secret-${hex()}`),
      });
      await call('POST', '/v1/audit/checkpoints', { as: 'admin' }); // seals, and lets the worker log a bit
      await new Promise((r) => setTimeout(r, 300)); // log lines are written asynchronously

      const dir = join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix);
      const logs = ['api.log', 'worker.log'].map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      expect(logs).toMatch(/"msg":"request"/); // the logs are there and do log requests
      const events = (await rig.sql('SELECT row_to_json(a)::text AS j FROM audit_event a'))
        .concat(await rig.sql('SELECT row_to_json(p)::text AS j FROM audit_pending p'))
        .map((r: any) => r.j as string)
        .join('\n');
      expect(events.length).toBeGreaterThan(0);

      // The tokens rig.environment() and rig.waitForStatus() used, too.
      for (const name of Object.keys(CLIENTS) as Array<keyof typeof CLIENTS>)
        tokensUsed.add(await rig.token(name));
      const secrets = [
        ...Object.values(CLIENTS).map((c) => `${c.client}-secret`),
        'ZXJpbjplcmluLXNlY3JldA==',
      ];
      const forbidden: string[] = [];
      for (const token of tokensUsed) forbidden.push(token, token.split('.')[2] ?? token);
      forbidden.push(tampered, 'not-a-jwt-0123456789abcdef', ...secrets, 'Bearer ');
      for (const [where, text] of [
        ['logs', logs],
        ['audit', events],
      ] as const) {
        const found = forbidden.filter((f) => f && text.includes(f));
        expect({ where, found }).toEqual({ where, found: [] });
        expect({ where, jwtHeader: /eyJhbGciOi|eyJ0eXAiOi|eyJraWQiOi/.test(text) }).toEqual({
          where,
          jwtHeader: false,
        });
        expect({ where, authorization: /"authorization"\s*:/i.test(text) }).toEqual({
          where,
          authorization: false,
        });
      }
      expect(tokensUsed.size).toBeGreaterThan(5);
    });
  });

  describe('incremental verification', () => {
    it('walks only what came after the proven checkpoint and finds an edit there', async () => {
      await freshEvents(2);
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      const full = await verification('genesis');
      expect(full).toMatchObject({
        status: 'completed',
        start: 'genesis',
        fromSeq: '0',
        ok: true,
        provenCheckpoint: { seq: cp.body.seq, hash: cp.body.hash },
      });
      expect(full.durationMs).toEqual(expect.any(Number));

      const fresh = await freshEvents(3);
      const inc = await verification('checkpoint');
      const head = (await rig.sql<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit_event'))[0].seq;
      expect(inc).toMatchObject({
        status: 'completed',
        start: 'checkpoint',
        fromSeq: cp.body.seq,
        toSeq: head,
        anchor: { seq: cp.body.seq, hash: cp.body.hash },
        progress: { checked: Number(head) - Number(cp.body.seq), total: Number(head) - Number(cp.body.seq) },
        ok: true,
      });

      const target = fresh[1];
      await behindTheAppsBack(async (c) => {
        await c.query(`UPDATE audit_event SET details = details || '{"sources":[]}' WHERE seq = $1`, [
          target.seq,
        ]);
      });
      const broken = await verification('checkpoint');
      expect(broken).toMatchObject({
        start: 'checkpoint',
        ok: false,
        report: { firstBrokenLink: { seq: target.seq, problem: 'hash_mismatch' } },
        provenCheckpoint: null,
      });
      await putBack([target]);
      expect((await verification('checkpoint')).ok).toBe(true);
    });

    it('finds history rewritten and re-chained before the proven checkpoint, at the checkpoint', async () => {
      const fresh = await freshEvents(2);
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      expect((await verification('genesis')).provenCheckpoint).toMatchObject({ seq: cp.body.seq });
      await freshEvents(1);
      let original: Row[] = [];
      await behindTheAppsBack(async (c) => {
        const { rows } = await c.query<Row>('SELECT * FROM audit_event WHERE seq >= $1 ORDER BY seq', [
          fresh[0].seq,
        ]);
        original = rows;
        let prev = rows[0].prev_hash;
        for (const r of rows) {
          const details = r.seq === fresh[0].seq ? { ...r.details, description: 'rewritten' } : r.details;
          const hash = chainHash(linkOf({ ...r, details }), prev);
          await c.query('UPDATE audit_event SET details = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [
            r.seq,
            JSON.stringify(details),
            prev,
            hash,
          ]);
          prev = hash;
        }
      });
      const inc = await verification('checkpoint');
      expect(inc).toMatchObject({
        start: 'checkpoint',
        fromSeq: cp.body.seq,
        ok: false,
        report: {
          firstBrokenLink: null,
          firstCheckpointMismatch: {
            seq: cp.body.seq,
            problem: 'checkpoint_mismatch',
            expected: cp.body.hash,
          },
        },
      });
      await putBack(original);
      expect((await verification('checkpoint')).ok).toBe(true);
    });

    it('refuses bad input and changes nothing', async () => {
      const before = await rig.sql('SELECT id FROM audit_verification');
      const bad = [
        await call('POST', '/v1/audit/verifications', { as: 'auditor', body: { start: 'sideways' } }),
        await call('GET', '/v1/audit/verifications/not-a-uuid', { as: 'auditor' }),
        await call('POST', '/v1/audit/verifications/not-a-uuid/cancel', { as: 'auditor' }),
        await call('GET', '/v1/audit/verifications?limit=0', { as: 'auditor' }),
        await call('GET', '/v1/audit/export?fromSeq=abc', { as: 'auditor' }),
        await call('GET', '/v1/audit/export?fromSeq=1&checkpoint=1', { as: 'auditor' }),
        await call('GET', '/v1/audit/export?compress=brotli', { as: 'auditor' }),
      ];
      expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
      const missing = '00000000-0000-4000-8000-000000000000';
      expect((await call('GET', `/v1/audit/verifications/${missing}`, { as: 'auditor' })).status).toBe(404);
      expect(
        (await call('POST', `/v1/audit/verifications/${missing}/cancel`, { as: 'auditor' })).status,
      ).toBe(404);
      expect((await call('GET', '/v1/audit/export?checkpoint=999999999', { as: 'auditor' })).status).toBe(
        404,
      );
      expect(await rig.sql('SELECT id FROM audit_verification')).toEqual(before);
    });

    it('exports from a checkpoint, gzip-compressed, with the range in its headers', async () => {
      await freshEvents(1);
      const cp = await call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
      await freshEvents(1);
      const res = await fetch(`${rig.stack.apiUrl}/v1/audit/export?checkpoint=${cp.body.seq}&compress=gzip`, {
        headers: { authorization: `Bearer ${await rig.token('auditor')}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/gzip');
      expect(res.headers.get('x-audit-from-seq')).toBe(cp.body.seq);
      const { gunzipSync } = await import('node:zlib');
      const links = gunzipSync(Buffer.from(await res.arrayBuffer()))
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as ChainLink);
      expect(links[0]).toMatchObject({ seq: cp.body.seq, hash: cp.body.hash });
      expect(links.at(-1)?.seq).toBe(res.headers.get('x-audit-head-seq'));
      expect(String(links.length)).toBe(res.headers.get('x-audit-events'));
      const cps = await call('GET', '/v1/audit/checkpoints', { as: 'auditor' });
      const offline = await verifyAuditChain(links, cps.body.items, cps.body.publicKey, { anchor: cp.body });
      expect(offline).toMatchObject({ ok: true, checked: links.length - 1 });
    });
  });

  // Last: this appends a long (valid) stretch to the chain, so that a walk takes long enough to act on.
  describe('a long walk', () => {
    beforeAll(async () => {
      await rig.auditSealed();
      await behindTheAppsBack(async (c) => {
        const { rows } = await c.query<Row>('SELECT * FROM audit_event ORDER BY seq DESC LIMIT 1');
        let seq = Number(rows[0].seq);
        let prev = rows[0].hash;
        const actor = { kind: 'human', issuer: 'https://idp.example.com', subject: 'bulk' };
        for (let batch = 0; batch < 10; batch++) {
          const cols: unknown[][] = [[], [], [], [], [], [], []];
          for (let i = 0; i < 10_000; i++) {
            seq += 1;
            const link = {
              seq: String(seq),
              occurredAt: new Date(1_800_000_000_000 + seq).toISOString(),
              actor,
              action: 'bulk.recorded',
              subjectType: 'bulk',
              subjectId: `b${seq}`,
              details: { n: seq, note: 'a long chain for the walk tests' },
            };
            const hash = chainHash(link, prev);
            [link.seq, link.occurredAt, link.subjectId, JSON.stringify(link.details), prev, hash].forEach(
              (v, k) => cols[k].push(v),
            );
            prev = hash;
          }
          await c.query(
            `INSERT INTO audit_event (seq, occurred_at, actor, actor_key, action, subject_type, subject_id, details, prev_hash, hash)
             SELECT s, o, $7::jsonb, 'bulk@https://idp.example.com', 'bulk.recorded', 'bulk', i, d, p, h
             FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::jsonb[], $5::text[], $6::text[]) AS t(s, o, i, d, p, h)`,
            [...cols.slice(0, 6), JSON.stringify(actor)],
          );
        }
      });
    }, 120_000);

    it('verifies a fixed range while intake continues', async () => {
      const started = await call('POST', '/v1/audit/verifications', {
        as: 'auditor',
        body: { start: 'genesis' },
      });
      expect(started.status).toBe(202);
      // Intake meanwhile: recorded, sealed, and beyond the range this walk covers.
      await freshEvents(2);
      const v = await finished(started.body.id);
      expect(v).toMatchObject({ status: 'completed', ok: true, fromSeq: '0', toSeq: started.body.toSeq });
      expect(v.report.head.seq).toBe(started.body.toSeq);
      expect(v.progress.checked).toBe(Number(started.body.toSeq));
      const head = (await rig.sql<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit_event'))[0].seq;
      expect(Number(head)).toBeGreaterThan(Number(started.body.toSeq));
    }, 120_000);

    it('stops a walk that is cancelled', async () => {
      const started = await call('POST', '/v1/audit/verifications', {
        as: 'auditor',
        body: { start: 'genesis' },
      });
      expect(started.status).toBe(202);
      const cancel = await call('POST', `/v1/audit/verifications/${started.body.id}/cancel`, {
        as: 'auditor',
      });
      expect(cancel.status).toBe(200);
      const v = await finished(started.body.id);
      expect(v).toMatchObject({ status: 'cancelled', ok: null, report: null, provenCheckpoint: null });
      expect(v.progress.checked).toBeLessThan(v.progress.total);
      expect(v.error).toMatch(/cancel/);
    }, 120_000);
  });
});
