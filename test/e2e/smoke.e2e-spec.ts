import { artifact, Rig } from '../support/rig';

describe('smoke', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await Rig.start();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('creates a promotion that reaches approved with no approvals required', async () => {
    await rig.environment('smoke');
    const res = await rig.call('POST', '/v1/promotions', {
      as: 'requester',
      body: { artifact: artifact('acme/app', 'smoke'), environment: 'smoke' },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['approved']);
    expect(done.history.map((h: any) => h.to)).toEqual(['received', 'checking', 'approved']);
  });
});
