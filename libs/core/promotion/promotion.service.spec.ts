import { ErrorCode, PromotionStatus as S } from '../../domain';
import { JobName } from '../../jobs/job.types';
import { type EnvironmentService } from '../environment/environment.service';
import { type Caller } from '../identity/caller';
import { Role } from '../identity/role-binding.entity';
import { type SourceRegistries } from '../registry/source-registries';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { type PromotionGateService } from '../gate/gate.service';
import { PromotionService } from './promotion.service';

const caller = (subject: string, grants: Caller['grants'] = []): Caller => ({
  actor: { kind: 'human', issuer: 'https://login.example.com', subject },
  key: `${subject}@https://login.example.com`,
  groups: [],
  claims: {},
  tokenJti: null,
  grants,
});
const requester = caller('ci');
const admin = caller('root', [{ role: Role.Admin, environment: 'production' }]);
const stranger = caller('mallory');

function service() {
  const promotions = new InMemoryPromotions();
  const environments = {
    byIdName: async () => 'production',
    byNameCached: async (name: string) => ({ id: 'env-1', name }),
  } as unknown as EnvironmentService;
  const svc = new PromotionService(
    promotions.asRepository,
    environments,
    promotions.asStateMachine,
    undefined as unknown as SourceRegistries,
    { assertChain: async () => undefined } as unknown as PromotionGateService,
  );
  return { svc, promotions };
}

/** A promotion that failed from `stage`, with that failure in its history. */
async function failedFrom(promotions: InMemoryPromotions, stage: S) {
  const p = promotions.add({ status: stage, requesterKey: requester.key });
  await promotions.stateMachine.transition({
    promotionId: p.id,
    from: stage,
    to: S.Failed,
    actor: requester.actor,
    reason: 'failed',
  });
  return p;
}

describe('PromotionService.retry: back to the stage that failed', () => {
  it('runs the checks again after the checks failed (and starts a new check stage)', async () => {
    const { svc, promotions } = service();
    const p = await failedFrom(promotions, S.Checking);
    const view = await svc.retry(p.id, requester);
    expect(view.status).toBe(S.Checking);
    expect(promotions.history.at(-1)).toMatchObject({
      from: S.Failed,
      to: S.Checking,
      job: JobName.RunChecks,
    });
    expect(promotions.rows.get(p.id)?.reasons).toEqual([]);
  });

  it('copies again, through approved and keeping its approvals, after the copy failed', async () => {
    const { svc, promotions } = service();
    const p = await failedFrom(promotions, S.Promoting);
    const view = await svc.retry(p.id, admin);
    expect(view.status).toBe(S.Approved);
    expect(promotions.history.at(-1)).toMatchObject({ from: S.Failed, to: S.Approved, job: JobName.Promote });
    expect(promotions.history.at(-1)?.reason).toBe(`retried by ${admin.key}`);
  });

  it('takes the newest failure: a retried copy that fails again is retried as a copy', async () => {
    const { svc, promotions } = service();
    const p = await failedFrom(promotions, S.Checking);
    await svc.retry(p.id, requester);
    for (const [from, to] of [
      [S.Checking, S.Approved],
      [S.Approved, S.Promoting],
      [S.Promoting, S.Failed],
    ]) {
      await promotions.stateMachine.transition({
        promotionId: p.id,
        from,
        to,
        actor: requester.actor,
        reason: '',
      });
    }
    expect((await svc.retry(p.id, requester)).status).toBe(S.Approved);
  });

  it('refuses a caller who is neither the requester nor an admin', async () => {
    const { svc, promotions } = service();
    const p = await failedFrom(promotions, S.Checking);
    await expect(svc.retry(p.id, stranger)).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    expect(promotions.status(p.id)).toBe(S.Failed);
  });

  it('refuses a promotion that has not failed', async () => {
    const { svc, promotions } = service();
    const p = promotions.add({ status: S.AwaitingApproval, requesterKey: requester.key });
    await expect(svc.retry(p.id, requester)).rejects.toMatchObject({ code: ErrorCode.Conflict });
    await expect(svc.retry('missing', requester)).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
