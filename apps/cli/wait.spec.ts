import { PromotionStatus } from '../../libs/domain/promotion-status';
import { type PromotionDetailView } from './api-types';
import { WAIT_SETTLED } from './exit-codes';
import { pollDelay, waitForPromotion } from './wait';

const at = (status: PromotionStatus): PromotionDetailView => ({ id: 'p1', status }) as PromotionDetailView;

function clock(): { now(): number; sleep(ms: number): Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('waitForPromotion', () => {
  it('polls with growing delays until settled, reporting each new status once', async () => {
    const c = clock();
    const seq = [PromotionStatus.Checking, PromotionStatus.Checking, PromotionStatus.Promoted];
    const seen: string[] = [];
    const r = await waitForPromotion(at(PromotionStatus.Received), {
      fetch: async () => at(seq.shift()!),
      settled: (s) => WAIT_SETTLED.has(s),
      timeoutMs: 60_000,
      ...c,
      onStatus: (s) => seen.push(s),
    });
    expect(r).toEqual({ promotion: at(PromotionStatus.Promoted), timedOut: false });
    expect(seen).toEqual(['received', 'checking', 'promoted']);
    expect(c.slept).toEqual([pollDelay(0), pollDelay(1), pollDelay(2)]);
    expect(c.slept[2]).toBeGreaterThan(c.slept[0]);
  });

  it('does not poll when the first answer is already settled', async () => {
    const fetch = jest.fn();
    const r = await waitForPromotion(at(PromotionStatus.Rejected), {
      fetch,
      settled: (s) => WAIT_SETTLED.has(s),
      timeoutMs: 1000,
      ...clock(),
    });
    expect(r.timedOut).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('times out with the last status seen, polling one last time at the deadline', async () => {
    const c = clock();
    const r = await waitForPromotion(at(PromotionStatus.AwaitingApproval), {
      fetch: async () => at(PromotionStatus.AwaitingApproval),
      settled: (s) => WAIT_SETTLED.has(s),
      timeoutMs: 20_000,
      ...c,
    });
    expect(r).toEqual({ promotion: at(PromotionStatus.AwaitingApproval), timedOut: true });
    expect(c.now()).toBe(20_000);
    expect(Math.max(...c.slept)).toBeLessThanOrEqual(5000);
  });
});
