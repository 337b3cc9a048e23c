import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifact, Rig } from '../support/rig';

/**
 * Approvals end to end: real tokens, real API and worker. Time moves through a clock file the
 * API and worker read in test mode (AIRLOCK_TEST_CLOCK_FILE), never by sleeping.
 */
describe('approvals', () => {
  let rig: Rig;
  const clockFile = join(mkdtempSync(join(tmpdir(), 'airlock-clock-')), 'offset');
  const setClock = (hours: number) => writeFileSync(clockFile, String(hours * 3600_000));
  const unique = () => randomBytes(3).toString('hex');

  let carolBinding: string;
  beforeAll(async () => {
    setClock(0);
    rig = await Rig.start({ AIRLOCK_TEST_CLOCK_FILE: clockFile, WORKER_SWEEP_INTERVAL_MS: '300' });
    // carol, the CI runs' actor, is also an approver: separation of duties must stop her.
    const bind = await rig.trustChange('POST', '/v1/role-bindings', {
      role: 'approver',
      issuer: rig.issuers.people,
      subject: 'carol',
    });
    carolBinding = bind.id;
  });
  afterAll(async () => {
    if (carolBinding) await rig?.trustChange('DELETE', `/v1/role-bindings/${carolBinding}`);
    await rig?.stop();
  });
  beforeEach(() => setClock(0));

  async function awaitingPromotion(
    policy: Record<string, unknown>,
  ): Promise<{ id: string; digest: string; env: string }> {
    const env = `appr-${unique()}`;
    await rig.environment(env, policy);
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: artifact('acme/app', env), environment: env },
    });
    expect(res.status).toBe(201);
    await rig.waitForStatus(res.body.id, ['awaiting_approval']);
    return { id: res.body.id, digest: res.body.digest, env };
  }

  const decide = (id: string, as: any, body: Record<string, unknown>) =>
    rig.call('POST', `/v1/promotions/${id}/approvals`, { as, body });

  it('walks the whole path: CI requests, the author is refused, two people approve', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2 } });
    const carol = await decide(p.id, 'author', { decision: 'approve', digest: p.digest, comment: 'lgtm' });
    expect(carol.status).toBe(403);
    expect(carol.body).toMatchObject({ code: 'commit_author' });
    const alice = await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
    expect(alice).toMatchObject({
      status: 201,
      body: { status: 'awaiting_approval', tally: { satisfied: false } },
    });
    const bob = await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest });
    expect(bob).toMatchObject({ status: 201, body: { status: 'approved', tally: { satisfied: true } } });
    const detail = await rig.waitForStatus(p.id, ['approved']);
    expect(detail.approvals.map((a: any) => a.decision)).toEqual(['approve', 'approve']);
    expect(
      detail.approvals.every((a: any) => a.digest === p.digest && a.policySha256 === detail.policySha256),
    ).toBe(true);
    await rig.auditSealed();
    const audit = await rig.call('GET', `/v1/audit?subjectId=${p.id}`, { as: 'auditor' });
    expect(audit.body.items.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(['approval.refused', 'approval.approve', 'promotion.approved']),
    );
  });

  describe('refusal codes', () => {
    it.each([
      ['commit_author', 'author', {}, 403],
      ['not_approver', 'noRole', {}, 403],
      ['not_approver (an admin is not an approver)', 'admin', {}, 403],
      ['stale_review', 'approver', { digest: `sha256:${'0'.repeat(64)}` }, 409],
      ['stale_review (policy hash)', 'approver', { policySha256: 'f'.repeat(64) }, 409],
      ['comment_required', 'approver', { decision: 'reject' }, 400],
    ])('%s', async (code, as, override, status) => {
      const p = await awaitingPromotion({ approvals: { required: 1 } });
      const res = await decide(p.id, as, { decision: 'approve', digest: p.digest, ...override });
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code.split(' ')[0]);
      expect((await rig.call('GET', `/v1/promotions/${p.id}`, { as: 'auditor' })).body.status).toBe(
        'awaiting_approval',
      );
    });

    it('self_approval: a person who requested cannot approve', async () => {
      const env = `appr-${unique()}`;
      await rig.environment(env, { approvals: { required: 1 } });
      const bind = await rig.trustChange('POST', '/v1/role-bindings', {
        role: 'requester',
        issuer: rig.issuers.people,
        subject: 'alice',
        environment: env,
      });
      const req = await rig.call('POST', '/v1/promotions', {
        as: 'approver',
        body: { artifact: artifact('acme/app', env), environment: env },
      });
      expect(req.status).toBe(201);
      await rig.waitForStatus(req.body.id, ['awaiting_approval']);
      const res = await decide(req.body.id, 'approver', { decision: 'approve', digest: req.body.digest });
      expect(res).toMatchObject({ status: 403, body: { code: 'self_approval' } });
      await rig.trustChange('DELETE', `/v1/role-bindings/${bind.id}`);
    });

    it('not_in_rule_groups: every rule names groups the approver is not in', async () => {
      const p = await awaitingPromotion({
        approvals: { rules: [{ name: 'security', required: 1, groups: ['security'] }] },
      });
      const alice = await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
      expect(alice).toMatchObject({ status: 403, body: { code: 'not_in_rule_groups' } });
      const bob = await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest });
      expect(bob).toMatchObject({ status: 201, body: { status: 'approved' } });
    });

    it('already_decided, then not_awaiting_approval', async () => {
      const p = await awaitingPromotion({ approvals: { required: 2 } });
      expect((await decide(p.id, 'approver', { decision: 'approve', digest: p.digest })).status).toBe(201);
      const again = await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
      expect(again).toMatchObject({ status: 409, body: { code: 'already_decided' } });
      expect((await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest })).status).toBe(201);
      const late = await decide(p.id, 'author', { decision: 'approve', digest: p.digest });
      expect(late).toMatchObject({ status: 409, body: { code: 'not_awaiting_approval' } });
    });
  });

  it('one reject rejects, with its comment as the reason', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2 } });
    expect((await decide(p.id, 'approver', { decision: 'approve', digest: p.digest })).status).toBe(201);
    const reject = await decide(p.id, 'approver2', {
      decision: 'reject',
      digest: p.digest,
      comment: 'CVE open',
    });
    expect(reject).toMatchObject({ status: 201, body: { status: 'rejected' } });
    const detail = await rig.call('GET', `/v1/promotions/${p.id}`, { as: 'auditor' });
    expect(detail.body.reasons.join(' ')).toContain('CVE open');
  });

  it('one person with two linked identities counts once', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2 } });
    const person = `person-${unique()}`;
    for (const who of ['alice', 'bob']) {
      await rig.trustChange('POST', '/v1/identity-links', {
        identity: `${who}@${rig.issuers.people}`,
        person,
      });
    }
    try {
      expect((await decide(p.id, 'approver', { decision: 'approve', digest: p.digest })).status).toBe(201);
      const bob = await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest });
      expect(bob).toMatchObject({ status: 409, body: { code: 'already_decided' } });
    } finally {
      for (const who of ['alice', 'bob']) {
        await rig.trustChange(
          'DELETE',
          `/v1/identity-links/${encodeURIComponent(`${who}@${rig.issuers.people}`)}`,
        );
      }
    }
  });

  it('a linked handle makes another identity the author', async () => {
    const p = await awaitingPromotion({ approvals: { required: 1 } });
    const person = `person-${unique()}`;
    await rig.trustChange('POST', '/v1/identity-links', { identity: 'handle:carol', person });
    await rig.trustChange('POST', '/v1/identity-links', { identity: `bob@${rig.issuers.people}`, person });
    try {
      const bob = await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest });
      expect(bob).toMatchObject({ status: 403, body: { code: 'commit_author' } });
    } finally {
      await rig.trustChange('DELETE', '/v1/identity-links/handle%3Acarol');
      await rig.trustChange(
        'DELETE',
        `/v1/identity-links/${encodeURIComponent(`bob@${rig.issuers.people}`)}`,
      );
    }
  });

  it('lists what the caller may decide, with evidence', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2 } });
    const mine = async (as: any) =>
      ((await rig.call('GET', '/v1/approvals/pending?limit=100', { as })).body.items as any[]).map(
        (i) => i.id,
      );
    expect(await mine('approver')).toContain(p.id);
    expect(await mine('author')).not.toContain(p.id);
    const listed = (
      await rig.call('GET', '/v1/approvals/pending?limit=100', { as: 'approver' })
    ).body.items.find((i: any) => i.id === p.id);
    expect(listed).toMatchObject({ tally: { satisfied: false, missing: { approvals: 2 } }, evidence: [] });
    await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
    expect(await mine('approver')).not.toContain(p.id);
    expect((await rig.call('GET', '/v1/approvals/pending', { as: 'noRole' })).status).toBe(403);
  });

  it('stops counting approvals older than expiresAfter', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2, expiresAfter: '1h' } });
    expect((await decide(p.id, 'approver', { decision: 'approve', digest: p.digest })).status).toBe(201);
    setClock(2);
    const bob = await decide(p.id, 'approver2', { decision: 'approve', digest: p.digest });
    expect(bob.body).toMatchObject({ status: 'awaiting_approval', tally: { satisfied: false } });
    expect(bob.body.tally.expired).toHaveLength(1);
    // Alice's approval lapsed, so she may give it again.
    const again = await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
    expect(again).toMatchObject({ status: 201, body: { status: 'approved' } });
  });

  it('expires a request nobody decides within pendingTimeout', async () => {
    const p = await awaitingPromotion({ approvals: { required: 1, pendingTimeout: '2h' } });
    const other = await awaitingPromotion({ approvals: { required: 1, pendingTimeout: '10h' } });
    setClock(3);
    const expired = await rig.waitForStatus(p.id, ['expired']);
    expect(expired.history.at(-1)).toMatchObject({ from: 'awaiting_approval', to: 'expired' });
    expect((await rig.call('GET', `/v1/promotions/${other.id}`, { as: 'auditor' })).body.status).toBe(
      'awaiting_approval',
    );
    const late = await decide(p.id, 'approver', { decision: 'approve', digest: p.digest });
    expect(late).toMatchObject({ status: 409, body: { code: 'not_awaiting_approval' } });
  });

  it('break-glass: approves without sign-offs, loudly, with a review someone else must sign', async () => {
    const p = await awaitingPromotion({ approvals: { required: 2 } });
    const denied = await rig.call('POST', `/v1/promotions/${p.id}/break-glass`, {
      as: 'approver',
      body: { reason: 'production is down, hotfix' },
    });
    expect(denied.status).toBe(403);
    const noReason = await rig.call('POST', `/v1/promotions/${p.id}/break-glass`, {
      as: 'admin2',
      body: { reason: 'x' },
    });
    expect(noReason.status).toBe(400);
    const glass = await rig.call('POST', `/v1/promotions/${p.id}/break-glass`, {
      as: 'admin2',
      body: { reason: 'production is down, hotfix for INC-42' },
    });
    expect(glass.status).toBe(201);
    expect((await rig.call('GET', `/v1/promotions/${p.id}`, { as: 'auditor' })).body.status).toBe('approved');
    await rig.auditSealed();
    const events = await rig.call('GET', `/v1/audit?subjectId=${p.id}&action=promotion.break_glass`, {
      as: 'auditor',
    });
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0].details).toMatchObject({ severity: 'critical' });

    const open = await rig.call('GET', '/v1/break-glass-reviews', { as: 'auditor' });
    expect(open.body.items.map((r: any) => r.id)).toContain(glass.body.id);
    const self = await rig.call('POST', `/v1/break-glass-reviews/${glass.body.id}/sign-off`, {
      as: 'admin2',
      body: { comment: 'fine' },
    });
    expect(self).toMatchObject({ status: 403, body: { code: 'self_approval' } });
    const signed = await rig.call('POST', `/v1/break-glass-reviews/${glass.body.id}/sign-off`, {
      as: 'approver',
      body: { comment: 'reviewed the hotfix diff' },
    });
    expect(signed).toMatchObject({ status: 200, body: { signedOffBy: expect.stringContaining('alice') } });
    const after = await rig.call('GET', '/v1/break-glass-reviews', { as: 'auditor' });
    expect(after.body.items.map((r: any) => r.id)).not.toContain(glass.body.id);
  });

  it('approves exactly once under 50 concurrent decisions, 20 times over', async () => {
    for (let round = 0; round < 20; round++) {
      const p = await awaitingPromotion({ approvals: { required: 2 } });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          decide(p.id, i % 2 ? 'approver' : 'approver2', { decision: 'approve', digest: p.digest }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(2);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const rows = await rig.sql(
        `SELECT count(*)::int AS n FROM promotion_status_change WHERE promotion_id = $1 AND to_status = 'approved'`,
        [p.id],
      );
      expect(rows[0].n).toBe(1);
      const approvals = await rig.sql(`SELECT count(*)::int AS n FROM approval WHERE promotion_id = $1`, [
        p.id,
      ]);
      expect(approvals[0].n).toBe(2);
    }
  }, 180_000);
});
