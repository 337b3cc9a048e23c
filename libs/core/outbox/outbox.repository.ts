import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';

/** A committed outbox row: a job to enqueue. */
export interface OutboxRow {
  id: string;
  jobName: string;
  jobId: string;
  payload: Record<string, unknown>;
  /** How long from now the job is to wait before it runs (0: at once). */
  delayMs: number;
}

@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Takes up to `limit` rows, oldest first, skipping rows another relay holds, hands them to
   * `deliver`, and deletes them in the same transaction once `deliver` resolved. Returns how many
   * it took; when `deliver` throws nothing is deleted.
   */
  drain(limit: number, deliver: (rows: OutboxRow[]) => Promise<void>): Promise<number> {
    return this.db.transaction(async (m) => {
      const rows: OutboxRow[] = await m.query(
        `SELECT id, job_name AS "jobName", job_id AS "jobId", payload,
           GREATEST(0, COALESCE(extract(epoch FROM not_before - now()) * 1000, 0))::float8 AS "delayMs"
         FROM outbox
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      await deliver(rows);
      await m.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
