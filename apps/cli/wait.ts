import { type PromotionStatus } from '../../libs/domain/promotion-status';
import { type PromotionDetailView } from './api-types';

export interface WaitOptions {
  /** Reads the promotion once (GET /v1/promotions/:id). */
  fetch(): Promise<PromotionDetailView>;
  settled(status: PromotionStatus): boolean;
  timeoutMs: number;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Called with every status seen for the first time. */
  onStatus?(status: PromotionStatus): void;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface WaitResult {
  promotion: PromotionDetailView;
  timedOut: boolean;
}

/** The delay before poll `n` (0-based): 250 ms growing by half each time, capped (5 s by default). */
export function pollDelay(n: number, initialMs = 250, maxMs = 5000): number {
  return Math.min(Math.round(initialMs * 1.5 ** n), maxMs);
}

/**
 * Polls a promotion until `settled` holds or the timeout passes, starting fast (checks take
 * seconds) and backing off (approvals take hours). The last poll happens at the deadline, so a
 * promotion that settles just in time is not reported as a timeout.
 */
export async function waitForPromotion(first: PromotionDetailView, o: WaitOptions): Promise<WaitResult> {
  const deadline = o.now() + o.timeoutMs;
  let promotion = first;
  let seen = promotion.status;
  o.onStatus?.(seen);
  for (let n = 0; !o.settled(promotion.status); n++) {
    const remaining = deadline - o.now();
    if (remaining <= 0) return { promotion, timedOut: true };
    await o.sleep(Math.min(pollDelay(n, o.initialDelayMs, o.maxDelayMs), remaining));
    promotion = await o.fetch();
    if (promotion.status !== seen) {
      seen = promotion.status;
      o.onStatus?.(seen);
    }
  }
  return { promotion, timedOut: false };
}
