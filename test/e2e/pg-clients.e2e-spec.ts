import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifact, Rig } from '../support/rig';

/**
 * node-postgres warns "Calling client.query() when the client is already executing a query" when
 * one client is handed a query while another still waits on it (a Promise.all over the queries of
 * one transaction, say); pg 9 makes it an error. A burst that crosses the paths reaching Postgres
 * from both processes — intake, the check stage, decisions, the pending list, metrics, readiness,
 * environment, policy and identity reads — must leave neither process's log with that warning.
 */
describe('one pg client, one query at a time', () => {
  let rig: Rig;
  const env = `pg-clients-${randomBytes(3).toString('hex')}`;
  const logs = () =>
    ['api.log', 'worker.log']
      .map((f) => readFileSync(join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, f), 'utf8'))
      .join('\n');

  beforeAll(async () => {
    rig = await Rig.start();
    await rig.environment(env, { approvals: { required: 1 } });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('no process hands one client two queries under a burst of concurrent work', async () => {
    const created = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const res = await rig.call('POST', '/v1/promotions', {
          token: await rig.token('requester', { fresh: true }),
          body: { artifact: artifact('acme/app', `${env}-${i}`), environment: env },
        });
        expect(res.status).toBe(201);
        return res.body as { id: string; digest: string };
      }),
    );
    await Promise.all(created.map((p) => rig.waitForStatus(p.id, ['awaiting_approval'], 30_000)));
    const reads = [
      ...Array.from({ length: 6 }, () =>
        rig.call('GET', '/v1/approvals/pending?limit=100', { as: 'approver' }),
      ),
      ...Array.from({ length: 3 }, () => rig.call('GET', '/metrics')),
      ...Array.from({ length: 3 }, () => rig.call('GET', '/readyz')),
      rig.call('GET', '/v1/environments', { as: 'auditor' }),
      rig.call('GET', `/v1/environments/${env}/policies`, { as: 'auditor' }),
      rig.call('GET', '/v1/identity-links', { as: 'admin' }),
    ];
    const decisions = created.map((p) =>
      rig.call('POST', `/v1/promotions/${p.id}/approvals`, {
        as: 'approver',
        body: { decision: 'approve', digest: p.digest },
      }),
    );
    const answered = await Promise.all([...reads, ...decisions]);
    expect(answered.map((r) => r.status).filter((s) => s >= 300)).toEqual([]);
    await Promise.all(created.map((p) => rig.waitForStatus(p.id, ['approved'], 30_000)));
    expect(logs()).not.toMatch(/already executing a query/);
  });
});
