import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type PromotionStatus } from '../../domain';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { SYSTEM_ACTOR } from '../identity/actor';
import { type Requeue, type ReconcileStore, type StalePromotion } from './reconcile-pass';

/** Serialises reconcile passes across every worker; a Postgres lock survives Redis losing its data. */
const RECONCILE_LOCK = 0x52_65_63_6f_6e; // "Recon"

@Injectable()
export class ReconcileRepository implements ReconcileStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly wakeups: WakeBus,
  ) {}

  /**
   * Runs `work` while holding the reconcile lock, or returns `{ ran: false }` at once when another
   * process holds it. The lock is transaction-scoped, so a process that dies releases it.
   */
  exclusive<T>(work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    return this.db.transaction(async (m) => {
      const rows: Array<{ locked: boolean }> = await m.query(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [RECONCILE_LOCK],
      );
      if (!rows[0]?.locked) return { ran: false as const };
      return { ran: true as const, value: await work() };
    });
  }

  /**
   * Promotions in one of `statuses` untouched for `olderThanMs`, after the cursor, oldest first,
   * leaving out those whose job still waits in the outbox (the relay will enqueue it).
   */
  async stale(
    statuses: readonly PromotionStatus[],
    olderThanMs: number,
    afterSeq: string,
    limit: number,
  ): Promise<StalePromotion[]> {
    return this.db.query(
      `SELECT p.id, p.seq::text AS seq, p.status,
              (SELECT json_agg(json_build_object('id', h.id::text, 'from', h.from_status, 'to', h.to_status)
                               ORDER BY h.id DESC)
               FROM promotion_status_change h WHERE h.promotion_id = p.id) AS history
       FROM promotion p
       WHERE p.status = ANY($1::promotion_status[])
         AND p.updated_at < now() - make_interval(secs => $2::float8 / 1000)
         AND p.seq > $3::bigint
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.payload->>'promotionId' = p.id::text)
       ORDER BY p.seq LIMIT $4`,
      [statuses, olderThanMs, afterSeq, limit],
    );
  }

  /**
   * Puts the promotion's job in the outbox again, with an audit event, in one statement — only if
   * the promotion is still where the decision saw it. An id already in the outbox is left alone.
   * Returns whether a row was written.
   */
  async requeue(r: Requeue): Promise<boolean> {
    const rows: Array<{ job_id: string }> = await this.db.query(
      `WITH p AS (
         SELECT id FROM promotion
         WHERE id = $1 AND status = $2::promotion_status
           AND (SELECT max(h.id) FROM promotion_status_change h WHERE h.promotion_id = $1) = $3::bigint
       ), job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT $4, $5, jsonb_build_object('promotionId', p.id) FROM p
         ON CONFLICT (job_id) DO NOTHING
         RETURNING job_id
       ), aud AS (
         INSERT INTO audit_pending (actor, action, subject_type, subject_id, details)
         SELECT $6::jsonb, 'promotion.requeued', 'promotion', $1::text,
                jsonb_build_object('status', $2::text, 'job', $4::text, 'jobId', $5::text, 'reason', $7::text)
         FROM job
       )
       SELECT job_id FROM job`,
      [r.promotionId, r.status, r.lastChangeId, r.job, r.jobId, JSON.stringify(SYSTEM_ACTOR), r.reason],
    );
    if (rows.length === 0) return false;
    this.wakeups.wake(OUTBOX_TOPIC);
    return true;
  }
}
