import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { canTransition, DomainError, ErrorCode, notFound, type PromotionStatus } from '../../domain';
import { jobStartedBy, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { type Actor } from '../identity/actor';

export interface Transition {
  promotionId: string;
  from: PromotionStatus;
  to: PromotionStatus;
  actor: Actor;
  /** Why, in a sentence; kept in the history and the audit event. */
  reason: string;
  /** Replaces the promotion's reasons (rejection reasons, failure cause) when given. */
  reasons?: string[];
  /** Extra audit details. */
  details?: Record<string, unknown>;
}

/**
 * The only code that changes a promotion's status. One statement does it all: the conditional
 * update (`WHERE status = from`), the history row, the audit event and, when the new status starts
 * work, the outbox row. Of two concurrent transitions from the same status exactly one applies;
 * the other gets a conflict.
 */
@Injectable()
export class PromotionStateMachine {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly wakeups: WakeBus,
  ) {}

  async transition(t: Transition, manager: EntityManager = this.db.manager): Promise<void> {
    if (!canTransition(t.from, t.to)) {
      throw new DomainError(ErrorCode.InvalidTransition, `a promotion cannot go from ${t.from} to ${t.to}`, {
        from: t.from,
        to: t.to,
      });
    }
    const job = jobStartedBy(t.from, t.to);
    const rows: Array<{ id: string }> = await manager.query(
      `WITH moved AS (
         UPDATE promotion SET status = $3::text::promotion_status, updated_at = now(),
                reasons = COALESCE($6::jsonb, reasons)
         WHERE id = $1 AND status = $2::text::promotion_status
         RETURNING id
       ), hist AS (
         INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         SELECT id, $2::text::promotion_status, $3::text::promotion_status, $4::jsonb, $5 FROM moved
         RETURNING id, promotion_id
       ), aud AS (
         INSERT INTO audit_pending (actor, action, subject_type, subject_id, details)
         SELECT $4::jsonb, 'promotion.' || $3::text, 'promotion', id::text,
                jsonb_build_object('from', $2::text, 'to', $3::text, 'reason', $5::text) || $7::jsonb
         FROM moved
       ), job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT $8::text, replace($8::text, '.', '-') || '-' || hist.promotion_id || '-' || hist.id,
                jsonb_build_object('promotionId', hist.promotion_id)
         FROM hist WHERE $8::text IS NOT NULL
       )
       SELECT id FROM moved`,
      [
        t.promotionId,
        t.from,
        t.to,
        JSON.stringify(t.actor),
        t.reason,
        t.reasons ? JSON.stringify(t.reasons) : null,
        JSON.stringify(t.details ?? {}),
        job,
      ],
    );
    if (rows.length === 1) {
      // Inside a caller's transaction the caller wakes the relay after its commit.
      if (job && manager === this.db.manager) this.wakeups.wake(OUTBOX_TOPIC);
      return;
    }
    const current: Array<{ status: PromotionStatus }> = await manager.query(
      'SELECT status FROM promotion WHERE id = $1',
      [t.promotionId],
    );
    if (current.length === 0) throw notFound('promotion', t.promotionId);
    throw new DomainError(
      ErrorCode.Conflict,
      `the promotion is ${current[0].status}, no longer ${t.from}; it cannot move to ${t.to}`,
      { expected: t.from, actual: current[0].status },
    );
  }
}
