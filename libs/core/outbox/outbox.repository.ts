import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pool, type PoolClient, type QueryResult } from 'pg';
import { type DataSource } from 'typeorm';
import { atDatabaseEdge } from '../database/database-outage';

/** A committed outbox row: a job to enqueue. */
export interface OutboxRow {
  id: string;
  jobName: string;
  jobId: string;
  payload: Record<string, unknown>;
  /** How long from now the job is to wait before it runs (0: at once). */
  delayMs: number;
}

/**
 * Opens the transaction and claims (deletes, returning them) up to `limit` rows, oldest first,
 * skipping rows another relay holds: one round trip, as a multi-statement simple query (which
 * takes no parameters, hence the limit written into the text; it is a number the code chose).
 */
const claimStatement = (limit: number): string => `BEGIN;
  DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox ORDER BY id LIMIT ${Math.floor(limit)} FOR UPDATE SKIP LOCKED
  )
  RETURNING id, job_name AS "jobName", job_id AS "jobId", payload,
    GREATEST(0, COALESCE(extract(epoch FROM not_before - now()) * 1000, 0))::float8 AS "delayMs"`;

/** Rows in outbox order: RETURNING does not keep the subquery's. */
export function inOutboxOrder(rows: OutboxRow[]): OutboxRow[] {
  return rows.sort((a, b) => {
    const x = BigInt(a.id);
    const y = BigInt(b.id);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Takes up to `limit` rows, oldest first, skipping rows another relay holds, hands them to
   * `deliver`, and commits their deletion once `deliver` resolved. Returns how many it took; when
   * `deliver` throws (or the connection is lost before the commit) nothing is deleted. Two round
   * trips a pass, claim and commit, on a pool client of its own (around TypeORM, whose
   * transaction would add a BEGIN and a separate read).
   */
  async drain(limit: number, deliver: (rows: OutboxRow[]) => Promise<void>): Promise<number> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    const client: PoolClient = await atDatabaseEdge(() => pool.connect());
    // A checked-out client has no error listener of the pool's: were its connection to drop while
    // this pass holds it (waiting on Redis, say), its 'error' event would be unhandled and end the
    // process. Noted instead, and the client is then destroyed, not returned to the pool.
    let lost: Error | undefined;
    const onError = (e: Error): void => {
      lost ??= e;
    };
    client.on('error', onError);
    // Reusable only when the transaction ended cleanly (committed, or rolled back after a failed
    // delivery); a failed claim or commit leaves the connection in a state nobody should inherit.
    let reusable = false;
    try {
      const results = (await atDatabaseEdge(() => client.query(claimStatement(limit)))) as unknown as Array<
        QueryResult<OutboxRow>
      >;
      const rows = inOutboxOrder(results[1].rows);
      if (rows.length > 0) {
        try {
          await deliver(rows);
        } catch (e) {
          await client.query('ROLLBACK').then(
            () => (reusable = true),
            () => undefined,
          );
          throw e;
        }
      }
      await atDatabaseEdge(() => client.query('COMMIT'));
      reusable = true;
      return rows.length;
    } finally {
      client.off('error', onError);
      client.release(lost ?? (reusable ? undefined : true));
    }
  }
}
