import { type DataSource } from 'typeorm';
import { ErrorCode, PromotionStatus as S } from '../../domain';
import { JobName, OUTBOX_TOPIC, type WakeBus } from '../../jobs';
import { SYSTEM_ACTOR } from '../identity/actor';
import { PromotionStateMachine } from './promotion-state-machine';
import { PromotionTransitionRepository } from './promotion-transitions.repository';

/**
 * The state machine's own decisions, around its SQL: which job a transition names, what it
 * returns, and when it wakes the relay. The SQL itself runs in the e2e suites.
 */
function machine(moved: boolean) {
  const queries: unknown[][] = [];
  const names: string[] = [];
  const wakes: string[] = [];
  const log: string[] = [];
  const answer = (values: unknown[]) => {
    queries.push(values);
    if (queries.length === 1) return moved ? [{ id: values[0], status: values[2], reasons: [] }] : [];
    return [{ status: S.Cancelled }];
  };
  // The move is a named prepared statement on a pg client (the pool's, or the transaction's);
  // the status read after a conflict goes through TypeORM.
  const client = {
    query: async (q: { name: string; values: unknown[] }) => {
      names.push(q.name);
      return { rows: answer(q.values) };
    },
  };
  const manager = { query: async (_sql: string, params: unknown[]) => answer(params) };
  const inTx = { ...manager, queryRunner: { connect: async () => client } };
  const db = {
    manager,
    driver: { master: client },
    transaction: async (work: (m: typeof inTx) => Promise<unknown>) => {
      const value = await work(inTx);
      log.push('commit');
      return value;
    },
  } as unknown as DataSource;
  const wakeups = {
    wake: (topic: string) => {
      wakes.push(topic);
      log.push('wake');
    },
  } as unknown as WakeBus;
  return {
    sm: new PromotionStateMachine(new PromotionTransitionRepository(db), wakeups),
    queries,
    names,
    wakes,
    log,
  };
}

const t = (from: S, to: S) => ({ promotionId: 'p-1', from, to, actor: SYSTEM_ACTOR, reason: 'why' });

describe('PromotionStateMachine', () => {
  it('returns the moved row and wakes the relay when the transition starts a job', async () => {
    const { sm, queries, names, wakes } = machine(true);
    const row = await sm.transition(t(S.Checking, S.Approved));
    expect(row).toMatchObject({ id: 'p-1', status: S.Approved });
    expect(names).toEqual(['airlock_promotion_move']);
    expect(queries[0][7]).toBe(JobName.Promote);
    expect(queries[0][8]).toBe(false);
    expect(wakes).toEqual([OUTBOX_TOPIC]);
  });

  it('names no job and wakes nobody for a transition inside a running job', async () => {
    const { sm, queries, wakes } = machine(true);
    await sm.transition(t(S.Received, S.Checking));
    expect(queries[0][7]).toBeNull();
    expect(wakes).toEqual([]);
  });

  it("inside a transaction, runs on the transaction's connection and wakes only after the commit", async () => {
    const { sm, log, names } = machine(true);
    await sm.transaction(async (tx) => {
      await sm.transition({ ...t(S.AwaitingApproval, S.Approved), breakGlass: true }, tx);
      log.push('work done');
    });
    expect(names).toEqual(['airlock_promotion_move']);
    expect(log).toEqual(['work done', 'commit', 'wake']);
  });

  it('does not wake when the transaction rolls back', async () => {
    const { sm, wakes } = machine(true);
    await expect(
      sm.transaction(async (tx) => {
        await sm.transition(t(S.AwaitingApproval, S.Approved), tx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(wakes).toEqual([]);
  });

  it('refuses a transition the lifecycle does not allow, before any SQL', async () => {
    const { sm, queries } = machine(true);
    await expect(sm.transition(t(S.Promoted, S.Checking))).rejects.toMatchObject({
      code: ErrorCode.InvalidTransition,
    });
    expect(queries).toEqual([]);
  });

  it('answers null, with no second read, from transitionIfIn when the promotion is elsewhere', async () => {
    const { sm, queries, wakes } = machine(false);
    expect(await sm.transitionIfIn(t(S.Received, S.Checking))).toBeNull();
    expect(queries).toHaveLength(1);
    expect(wakes).toEqual([]);
  });

  it('answers a conflict naming the status the promotion is in now', async () => {
    const { sm, wakes } = machine(false);
    await expect(sm.transition(t(S.AwaitingApproval, S.Approved))).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      details: { expected: S.AwaitingApproval, actual: S.Cancelled },
    });
    expect(wakes).toEqual([]);
  });

  describe('create', () => {
    const record = {
      id: 'p-1',
      environmentId: 'env-1',
      sourceRegistry: 'registry.staging.example.com',
      sourceRepository: 'acme/app',
      digest: `sha256:${'b'.repeat(64)}`,
      tag: null,
      targetRegistry: 'registry.prod.example.com',
      targetRepository: 'prod/acme/app',
      requester: SYSTEM_ACTOR,
      requesterKey: 'ci@https://ci.example.com',
      claims: {},
      metadata: {},
      tokenIssuer: 'https://ci.example.com',
      tokenJti: 'jti-1',
      idempotencyKey: null,
      requestHash: 'f'.repeat(64),
    };
    function creating(answer: () => Promise<{ rows: unknown[] }>) {
      const statements: Array<{ name: string; values: unknown[] }> = [];
      const wakes: string[] = [];
      const db = {
        driver: {
          master: {
            query: async (q: { name: string; values: unknown[] }) => {
              statements.push(q);
              return answer();
            },
          },
        },
      } as unknown as DataSource;
      const wakeups = { wake: (topic: string) => void wakes.push(topic) } as unknown as WakeBus;
      return {
        sm: new PromotionStateMachine(new PromotionTransitionRepository(db), wakeups),
        statements,
        wakes,
      };
    }

    it('inserts as received, starting the check stage, in one prepared statement, then wakes the relay', async () => {
      const at = new Date();
      const { sm, statements, wakes } = creating(async () => ({
        rows: [{ policy_sha256: 'a'.repeat(64), created_at: at, policy_version: 2 }],
      }));
      expect(await sm.create(record)).toEqual({
        policySha256: 'a'.repeat(64),
        policyVersion: 2,
        createdAt: at,
      });
      expect(statements).toHaveLength(1);
      expect(statements[0].name).toBe('airlock_promotion_create');
      expect(statements[0].values[16]).toBe(JobName.RunChecks);
      expect(statements[0].values.slice(17, 20)).toEqual(['promotion', null, null]);
      // The webhook events of the intake, written by the same statement (libs/domain webhook-events).
      expect(statements[0].values[20]).toEqual(['promotion.requested']);
      // No Idempotency-Key claimed by the statement itself.
      expect(statements[0].values[21]).toBe(false);
      expect(wakes).toEqual([OUTBOX_TOPIC]);
    });

    it('answers null, waking nobody, when the environment has no active policy', async () => {
      const { sm, wakes } = creating(async () => ({ rows: [] }));
      expect(await sm.create(record)).toBeNull();
      expect(wakes).toEqual([]);
    });

    it('refuses a CI token used a second time', async () => {
      const { sm } = creating(async () => {
        throw Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'uq_promotion_token' });
      });
      await expect(sm.create(record)).rejects.toMatchObject({ code: ErrorCode.TokenReplayed });
    });
  });
});
