import { Injectable } from '@nestjs/common';
import {
  canTransition,
  DomainError,
  ErrorCode,
  INITIAL_STATUS,
  eventsOfTransition,
  notFound,
} from '../../domain';
import { jobStartedBy, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { type Tx } from '../database/unit-of-work';
import { type PromotionEntity } from './promotion.entity';

import {
  type CreatedPromotion,
  type NewPromotion,
  PromotionTransitionRepository,
  type Transition,
} from './promotion-transitions.repository';

export type { CreatedPromotion, NewPromotion, Transition };

/**
 * The only code that creates a promotion or changes its status, each in one statement: the row
 * (inserted, or updated conditionally: `WHERE status = from`), the history row, the audit event
 * and, when the lifecycle says the transition starts work, the outbox row. Of two concurrent
 * transitions from the same status exactly one applies; the other gets a conflict. After the
 * commit it wakes the outbox relay itself: at once, or when the caller's transaction commits.
 */
@Injectable()
export class PromotionStateMachine {
  constructor(
    private readonly repo: PromotionTransitionRepository,
    private readonly wakeups: WakeBus,
  ) {}

  /** A transaction for work that moves promotions along with other writes (an approval). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.repo.transaction(work);
  }

  /**
   * Inserts the promotion in the initial status with its first history row, audit event, check-stage
   * job and idempotency completion, in one statement. The policy version pinned is the one active
   * on the environment at this instant. Returns null when the environment has no active policy.
   */
  async create(p: NewPromotion): Promise<CreatedPromotion | null> {
    const job = jobStartedBy(null, INITIAL_STATUS);
    const events = eventsOfTransition(null, INITIAL_STATUS);
    const created = await this.repo.insert(p, job, events);
    if (created && (job || events.length > 0)) this.wakeups.wake(OUTBOX_TOPIC);
    return created;
  }

  /**
   * Moves the promotion and returns it as it now is. Inside `tx` the work it starts is announced
   * when that transaction commits. A promotion no longer in `from` is a conflict.
   */
  async transition(t: Transition, tx?: Tx): Promise<PromotionEntity> {
    const moved = await this.transitionIfIn(t, tx);
    if (moved) return moved;
    const current = await this.repo.statusOf(t.promotionId, tx?.manager);
    if (current === null) throw notFound('promotion', t.promotionId);
    throw new DomainError(
      ErrorCode.Conflict,
      `the promotion is ${current}, no longer ${t.from}; it cannot move to ${t.to}`,
      { expected: t.from, actual: current },
    );
  }

  /**
   * As `transition`, but a promotion not in `from` (or not there at all) is null rather than an
   * error, and costs no second read: for the worker, which reads the promotion itself only when
   * the move did not happen.
   */
  async transitionIfIn(t: Transition, tx?: Tx): Promise<PromotionEntity | null> {
    if (!canTransition(t.from, t.to)) {
      throw new DomainError(ErrorCode.InvalidTransition, `a promotion cannot go from ${t.from} to ${t.to}`, {
        from: t.from,
        to: t.to,
      });
    }
    const job = jobStartedBy(t.from, t.to);
    const events = eventsOfTransition(t.from, t.to, t.breakGlass === true);
    const moved = await this.repo.move(t, job, events, tx?.manager);
    if (moved && (job || events.length > 0)) {
      const wake = (): void => this.wakeups.wake(OUTBOX_TOPIC);
      if (tx) tx.afterCommit(wake);
      else wake();
    }
    return moved;
  }
}
