import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type AuditCheckpoint, type AuditVerification } from '../../domain';
import { JobName, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { type Actor } from '../identity/actor';
import {
  AuditVerificationEntity,
  AuditVerificationStatus,
  type VerificationStart,
} from './audit-verification.entity';

export interface NewVerification {
  requestedBy: Actor;
  requestedStart: VerificationStart;
  start: VerificationStart;
  fromSeq: string;
  anchor: AuditCheckpoint | null;
  toSeq: string;
  pendingAtStart: number;
}

export interface VerificationOutcome {
  status: AuditVerificationStatus;
  report: AuditVerification | null;
  provenCheckpoint: AuditCheckpoint | null;
  error: string | null;
}

/** The outbox job id of a verification's walk (one per verification: a relay retry deduplicates). */
export const verifyJobId = (id: string): string => `audit-verify-${id}`;

@Injectable()
export class AuditVerificationRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly wakeups: WakeBus,
  ) {}

  private get rows() {
    return this.db.getRepository(AuditVerificationEntity);
  }

  /**
   * Records a verification: running at once (inline), or queued together with its job in the
   * outbox, in one statement, so a queued verification always has a job.
   */
  async insert(v: NewVerification, queued: boolean): Promise<AuditVerificationEntity> {
    const status = queued ? AuditVerificationStatus.Queued : AuditVerificationStatus.Running;
    const rows: Array<{ id: string }> = await this.db.query(
      `WITH v AS (
         INSERT INTO audit_verification (requested_by, status, requested_start, start, from_seq, anchor, to_seq,
                                         pending_at_start, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::boolean THEN NULL ELSE now() END)
         RETURNING id
       ), job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT $10, 'audit-verify-' || v.id, jsonb_build_object('verificationId', v.id) FROM v WHERE $9::boolean
       )
       SELECT id FROM v`,
      [
        JSON.stringify(v.requestedBy),
        status,
        v.requestedStart,
        v.start,
        v.fromSeq,
        v.anchor ? JSON.stringify(v.anchor) : null,
        v.toSeq,
        v.pendingAtStart,
        queued,
        JobName.VerifyAudit,
      ],
    );
    if (queued) this.wakeups.wake(OUTBOX_TOPIC);
    return this.rows.findOneByOrFail({ id: rows[0].id });
  }

  /** The verification; `touch` records that a client asked (it keeps the walk alive). */
  async get(id: string, touch = false): Promise<AuditVerificationEntity | null> {
    if (touch) await this.rows.update({ id }, { clientSeenAt: () => 'now()' });
    return this.rows.findOneBy({ id });
  }

  list(limit: number, before?: { createdAt: string; id: string }): Promise<AuditVerificationEntity[]> {
    const q = this.rows.createQueryBuilder('v').orderBy('v.created_at', 'DESC').addOrderBy('v.id', 'DESC');
    if (before) {
      q.where('(v.created_at, v.id) < (:createdAt::timestamptz, :id::uuid)', before);
    }
    return q.limit(limit).getMany();
  }

  /**
   * Takes a queued verification for a walk (or one whose walk died with its worker: it starts
   * over). Undefined when it finished or was cancelled meanwhile.
   */
  async claim(id: string): Promise<AuditVerificationEntity | undefined> {
    const [rows]: [Array<{ id: string }>, number] = await this.db.query(
      `UPDATE audit_verification SET status = 'running', started_at = now(), checked = 0
       WHERE id = $1 AND status IN ('queued', 'running') AND NOT cancel_requested RETURNING id`,
      [id],
    );
    if (rows.length === 0) return undefined;
    return (await this.rows.findOneBy({ id })) ?? undefined;
  }

  /**
   * Records progress and says whether the walk should stop: a cancel was asked for, or no client
   * asked about it for `abandonSeconds`.
   */
  async progress(
    id: string,
    checked: number,
    abandonSeconds: number,
  ): Promise<'go' | 'cancelled' | 'abandoned'> {
    const [rows]: [Array<{ cancel_requested: boolean; abandoned: boolean }>, number] = await this.db.query(
      `UPDATE audit_verification SET checked = $2 WHERE id = $1
       RETURNING cancel_requested, client_seen_at < now() - make_interval(secs => $3) AS abandoned`,
      [id, checked, abandonSeconds],
    );
    if (!rows[0] || rows[0].cancel_requested) return 'cancelled';
    return rows[0].abandoned ? 'abandoned' : 'go';
  }

  /** Writes the outcome of a running walk (a walk already finished elsewhere is left alone). */
  async finish(id: string, o: VerificationOutcome): Promise<AuditVerificationEntity> {
    await this.db.query(
      `UPDATE audit_verification
       SET status = $2, ok = $3, report = $4, proven_checkpoint = $5, error = $6,
           checked = COALESCE(($4::jsonb ->> 'checked')::bigint, checked),
           finished_at = now(),
           duration_ms = round(extract(epoch FROM now() - COALESCE(started_at, created_at)) * 1000)
       WHERE id = $1 AND status IN ('queued', 'running')`,
      [
        id,
        o.status,
        o.report ? o.report.ok : null,
        o.report ? JSON.stringify(o.report) : null,
        o.provenCheckpoint ? JSON.stringify(o.provenCheckpoint) : null,
        o.error,
      ],
    );
    return this.rows.findOneByOrFail({ id });
  }

  /**
   * Asks a verification to stop. A queued one is cancelled at once; a running one stops at its
   * next page. Returns the row, or null when there is none.
   */
  async requestCancel(id: string): Promise<AuditVerificationEntity | null> {
    await this.db.query(
      `UPDATE audit_verification
       SET cancel_requested = true,
           status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
           error = CASE WHEN status = 'queued' THEN 'cancelled before it started' ELSE error END,
           finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
       WHERE id = $1 AND status IN ('queued', 'running')`,
      [id],
    );
    return this.rows.findOneBy({ id });
  }

  /** The newest checkpoint a completed sound walk proved: where an incremental walk starts. */
  async newestProven(): Promise<AuditCheckpoint | undefined> {
    const rows: Array<{ proven_checkpoint: AuditCheckpoint }> = await this.db.query(
      `SELECT proven_checkpoint FROM audit_verification
       WHERE status = 'completed' AND ok AND proven_checkpoint IS NOT NULL
       ORDER BY (proven_checkpoint ->> 'seq')::bigint DESC, finished_at DESC LIMIT 1`,
    );
    return rows[0]?.proven_checkpoint;
  }
}
