import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pool } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';
import { atDatabaseEdge } from '../database/database-outage';
import { type ChainLink, chainHash, GENESIS_HASH } from '../../domain';
import { type Actor, actorKey } from '../identity/actor';

/** What a caller records; the sealer adds seq, prevHash and hash. */
export interface AuditRecord {
  actor: Actor;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  actor?: string;
  subjectType?: string;
  subjectId?: string;
  afterSeq?: string;
  limit: number;
}

/** Advisory lock key that serialises sealers across every API and worker process. */
const SEAL_LOCK = 0x41_75_64_69_74; // "Audit"
/** Events sealed per transaction; a full batch means more may be waiting. */
export const SEAL_BATCH = 500;

interface LinkRow {
  seq: string;
  occurred_at: Date;
  actor: Actor;
  action: string;
  subject_type: string;
  subject_id: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/**
 * The walk's page query: arrays instead of row objects, `occurred_at` already in the form the hash
 * covers (toISOString's, milliseconds, UTC) so no Date is built per row, and only links up to the
 * head the walk started at (a walk during intake verifies a fixed range).
 */
const WALK_PAGE_SQL = `SELECT seq::text AS seq_text, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         actor, action, subject_type, subject_id, details, prev_hash, hash
  FROM audit_event WHERE seq > $1 AND seq <= $2 ORDER BY audit_event.seq`;

type WalkRow = [
  string,
  string,
  ChainLink['actor'],
  string,
  string,
  string,
  Record<string, unknown>,
  string,
  string,
];

const fromWalkRow = (r: WalkRow): ChainLink => ({
  seq: r[0],
  occurredAt: r[1],
  actor: r[2],
  action: r[3],
  subjectType: r[4],
  subjectId: r[5],
  details: r[6],
  prevHash: r[7],
  hash: r[8],
});

const toLink = (r: LinkRow): ChainLink => ({
  seq: r.seq,
  occurredAt: r.occurred_at.toISOString(),
  actor: r.actor,
  action: r.action,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Appends to the pending queue inside the caller's transaction (or on its own). */
  async record(record: AuditRecord, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.query(
      `INSERT INTO audit_pending (actor, action, subject_type, subject_id, details) VALUES ($1, $2, $3, $4, $5)`,
      [record.actor, record.action, record.subjectType, record.subjectId, record.details ?? {}],
    );
  }

  /**
   * Moves committed pending events into the chain, in id order, under a lock that makes the chain
   * linear however many processes seal at once. Returns how many events were sealed.
   */
  async sealBatch(): Promise<number> {
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
      // TypeORM answers a bare DELETE with [rows, rowCount], not with the rows.
      const [moved]: [
        Array<{
          id: string;
          occurred_at: Date;
          actor: Actor;
          action: string;
          subject_type: string;
          subject_id: string;
          details: Record<string, unknown>;
        }>,
        number,
      ] = await m.query(
        `DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT ${SEAL_BATCH})
         RETURNING id, occurred_at, actor, action, subject_type, subject_id, details`,
      );
      if (moved.length === 0) return 0;
      moved.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      const head: Array<{ seq: string; hash: string }> = await m.query(
        'SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1',
      );
      let seq = head.length ? BigInt(head[0].seq) : 0n;
      let prev = head.length ? head[0].hash : GENESIS_HASH;
      const columns: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
      for (const p of moved) {
        seq += 1n;
        const fields = {
          seq: String(seq),
          occurredAt: p.occurred_at.toISOString(),
          actor: p.actor,
          action: p.action,
          subjectType: p.subject_type,
          subjectId: p.subject_id,
          details: p.details,
        };
        const hash = chainHash(fields, prev);
        const row = [
          fields.seq,
          fields.occurredAt,
          JSON.stringify(p.actor),
          actorKey(p.actor),
          p.action,
          p.subject_type,
          p.subject_id,
          JSON.stringify(p.details),
          prev,
          hash,
        ];
        row.forEach((v, i) => columns[i].push(v));
        prev = hash;
      }
      await m.query(
        `INSERT INTO audit_event (seq, occurred_at, actor, actor_key, action, subject_type, subject_id, details, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::jsonb[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::jsonb[], $9::text[], $10::text[])`,
        columns,
      );
      return moved.length;
    });
  }

  async pendingCount(): Promise<number> {
    const rows: Array<{ n: string }> = await this.db.query('SELECT count(*) AS n FROM audit_pending');
    return Number(rows[0].n);
  }

  async head(): Promise<{ seq: string; hash: string }> {
    const rows: Array<{ seq: string; hash: string }> = await this.db.query(
      'SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1',
    );
    return rows[0] ?? { seq: '0', hash: GENESIS_HASH };
  }

  /** Links after `afterSeq`, ascending, for verification and export. */
  async linksAfter(afterSeq: string, limit: number): Promise<ChainLink[]> {
    const rows: LinkRow[] = await this.db.query(
      `SELECT seq, occurred_at, actor, action, subject_type, subject_id, details, prev_hash, hash
       FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map(toLink);
  }

  /**
   * Links in (afterSeq, upToSeq], page by page. Each page is a range of `pageSize` sequence numbers
   * (the chain has no gaps, so a range is a page; a gap only makes a page shorter): a bounded range
   * keeps the plan cheap whatever the statistics say (an open range `seq > $1 ... LIMIT n` was
   * planned as a bitmap scan and sort of everything after $1, on every page). The next page is
   * already asked for while the caller works on the current one, so Postgres reads and the caller
   * hashes at the same time.
   */
  async *pages(afterSeq: string, upToSeq: string, pageSize: number): AsyncGenerator<ChainLink[]> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    const end = BigInt(upToSeq);
    const step = BigInt(pageSize);
    const fetch = (from: bigint): Promise<ChainLink[]> => {
      const to = from + step < end ? from + step : end;
      return atDatabaseEdge(() =>
        pool.query<WalkRow>({ text: WALK_PAGE_SQL, values: [String(from), String(to)], rowMode: 'array' }),
      ).then((r) => r.rows.map(fromWalkRow));
    };
    let from = BigInt(afterSeq);
    let next: Promise<ChainLink[]> | undefined = from < end ? fetch(from) : undefined;
    try {
      while (next) {
        const page: ChainLink[] = await next;
        from += step;
        if (page.length === 0 && from < end) {
          // A gap as long as a page (rows removed behind the application's back): jump to the next
          // link rather than walk empty ranges; the verifier names the gap.
          const rows: Array<{ seq: string | null }> = await this.db.query(
            'SELECT min(seq)::text AS seq FROM audit_event WHERE seq > $1 AND seq <= $2',
            [String(from), upToSeq],
          );
          if (rows[0]?.seq === null || rows[0]?.seq === undefined) return;
          from = BigInt(rows[0].seq) - 1n;
        }
        next = from < end ? fetch(from) : undefined;
        if (page.length > 0) yield page;
      }
    } finally {
      // A walk stopped early (cancelled, broken) leaves no query unobserved.
      await next?.catch(() => undefined);
    }
  }

  async linkAt(seq: string): Promise<ChainLink | undefined> {
    const rows: LinkRow[] = await this.db.query(
      `SELECT seq, occurred_at, actor, action, subject_type, subject_id, details, prev_hash, hash
       FROM audit_event WHERE seq = $1`,
      [seq],
    );
    return rows[0] ? toLink(rows[0]) : undefined;
  }

  async query(q: AuditQuery): Promise<ChainLink[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.action) add('action = ?', q.action);
    if (q.actor) add('actor_key = ?', q.actor);
    if (q.subjectType) add('subject_type = ?', q.subjectType);
    if (q.subjectId) add('subject_id = ?', q.subjectId);
    if (q.afterSeq) add('seq > ?', q.afterSeq);
    params.push(q.limit);
    const rows: LinkRow[] = await this.db.query(
      `SELECT seq, occurred_at, actor, action, subject_type, subject_id, details, prev_hash, hash
       FROM audit_event ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    return rows.map(toLink);
  }
}
