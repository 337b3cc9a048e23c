import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '../../domain';
import { type AdvisoryCandidate, type AdvisorySeverity, candidateKey, type OsvAffected } from '../../vuln';
import { mapSqlStates, SqlState } from '../database/pg-errors';
import { inTransaction, type Tx } from '../database/unit-of-work';
import { type Actor } from '../identity/actor';
import { type AdvisoryEntity, type AdvisoryImportEntity } from './advisory.entity';

/** An advisory ready to store: the document with what matching needs worked out once. */
export interface StorableAdvisory {
  id: string;
  modified: string;
  withdrawn: string | null;
  aliases: string[];
  summary: string;
  severity: AdvisorySeverity;
  document: unknown;
  packages: Array<{ ecosystem: string; release: string; name: string; affected: OsvAffected[] }>;
}

export interface UpsertCounts {
  added: number;
  updated: number;
  unchanged: number;
}

/** Imports take turns, so numbering and "newest modified wins" hold however many run at once. */
const IMPORT_LOCK = 0x0a1e_0005;

@Injectable()
export class AdvisoryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One transaction (an import is all or nothing). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, work);
  }

  /** Held until the transaction ends. */
  async lockImports(m: EntityManager): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
  }

  /**
   * Numbers and records a new import (under the lock); its counts are filled in by finishImport.
   * Throws conflict when an import of the same bytes committed first.
   */
  async startImport(
    sha256: string,
    source: string,
    actor: Actor,
    m: EntityManager,
  ): Promise<{ id: string; seq: number }> {
    const [row]: Array<{ id: string; seq: number }> = await mapSqlStates(
      () =>
        m.query(
          `INSERT INTO advisory_import (seq, sha256, source, documents, added, updated, unchanged, created_by)
       SELECT coalesce(max(seq), 0) + 1, $1, $2, 0, 0, 0, 0, $3 FROM advisory_import RETURNING id, seq`,
          [sha256, source, actor],
        ),
      {
        [SqlState.UniqueViolation]: () =>
          new DomainError(ErrorCode.Conflict, 'an import of the same bytes committed first', { sha256 }),
      },
    );
    return row;
  }

  async finishImport(id: string, c: UpsertCounts & { documents: number }, m: EntityManager): Promise<void> {
    await m.query(
      'UPDATE advisory_import SET documents = $2, added = $3, updated = $4, unchanged = $5 WHERE id = $1',
      [id, c.documents, c.added, c.updated, c.unchanged],
    );
  }

  /**
   * Stores a batch in one statement per table. An advisory already stored with the same or a
   * newer `modified` is left alone, so imports can come in any order and repeat harmlessly.
   */
  async upsertBatch(batch: StorableAdvisory[], importId: string, m: EntityManager): Promise<UpsertCounts> {
    if (batch.length === 0) return { added: 0, updated: 0, unchanged: 0 };
    const rows: Array<{ id: string; inserted: boolean }> = await m.query(
      `INSERT INTO advisory (id, modified, withdrawn, aliases, summary, severity, score, vector, document, import_id)
       SELECT t.id, t.modified, t.withdrawn, ARRAY(SELECT jsonb_array_elements_text(t.aliases)), t.summary, t.severity, t.score, t.vector, t.document, $10
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::jsonb[], $5::text[], $6::text[],
                   $7::real[], $8::text[], $9::jsonb[])
         AS t(id, modified, withdrawn, aliases, summary, severity, score, vector, document)
       ON CONFLICT (id) DO UPDATE SET modified = EXCLUDED.modified, withdrawn = EXCLUDED.withdrawn,
         aliases = EXCLUDED.aliases, summary = EXCLUDED.summary, severity = EXCLUDED.severity,
         score = EXCLUDED.score, vector = EXCLUDED.vector, document = EXCLUDED.document,
         import_id = EXCLUDED.import_id, revision = advisory.revision + 1
       WHERE advisory.modified < EXCLUDED.modified
       RETURNING id, (xmax = 0) AS inserted`,
      [
        batch.map((a) => a.id),
        batch.map((a) => a.modified),
        batch.map((a) => a.withdrawn),
        // A list per row travels as JSON: unnest cannot take a 2-D array of varying width.
        batch.map((a) => JSON.stringify(a.aliases)),
        batch.map((a) => a.summary),
        batch.map((a) => a.severity.severity),
        batch.map((a) => a.severity.score),
        batch.map((a) => a.severity.vector),
        batch.map((a) => JSON.stringify(a.document)),
        importId,
      ],
    );
    const changed = new Set(rows.map((r) => r.id));
    const updated = rows.filter((r) => !r.inserted).map((r) => r.id);
    if (updated.length) await m.query('DELETE FROM advisory_package WHERE advisory_id = ANY($1)', [updated]);
    const packages = batch
      .filter((a) => changed.has(a.id))
      .flatMap((a) => a.packages.map((p) => ({ id: a.id, ...p })));
    if (packages.length) {
      await m.query(
        `INSERT INTO advisory_package (advisory_id, ecosystem, release, name, affected)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
        [
          packages.map((p) => p.id),
          packages.map((p) => p.ecosystem),
          packages.map((p) => p.release),
          packages.map((p) => p.name),
          packages.map((p) => JSON.stringify(p.affected)),
        ],
      );
    }
    const added = rows.filter((r) => r.inserted).length;
    return { added, updated: updated.length, unchanged: batch.length - rows.length };
  }

  /**
   * The newest import and the advisories of these packages, read from one snapshot, so the import
   * a scan names is the one whose data it matched.
   */
  matchSnapshot(
    keys: ReadonlyArray<{ ecosystem: string; name: string }>,
  ): Promise<{ database: { seq: number; id: string } | null; candidates: Map<string, AdvisoryCandidate[]> }> {
    return this.db.transaction('REPEATABLE READ', async (m) => ({
      database: await this.latestImport(m),
      candidates: await this.candidatesFor(keys, m),
    }));
  }

  /** The stored advisories for these packages, keyed by `candidateKey(ecosystem, name)`. */
  async candidatesFor(
    keys: ReadonlyArray<{ ecosystem: string; name: string }>,
    m: EntityManager = this.db.manager,
    /** Only the advisories this import added or changed (continuous verification). */
    changedBy?: string,
  ): Promise<Map<string, AdvisoryCandidate[]>> {
    const byKey = new Map<string, AdvisoryCandidate[]>();
    if (keys.length === 0) return byKey;
    const rows: Array<{
      id: string;
      aliases: string[];
      summary: string;
      severity: AdvisorySeverity['severity'];
      score: number | null;
      vector: string | null;
      ecosystem: string;
      release: string;
      name: string;
      affected: OsvAffected[];
    }> = await m.query(
      `SELECT a.id, a.aliases, a.summary, a.severity, a.score, a.vector, p.ecosystem, p.release, p.name, p.affected
       FROM advisory_package p JOIN advisory a ON a.id = p.advisory_id
       WHERE (p.ecosystem, p.name) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND a.withdrawn IS NULL
         AND ($3::uuid IS NULL OR a.import_id = $3)`,
      [keys.map((k) => k.ecosystem), keys.map((k) => k.name), changedBy ?? null],
    );
    for (const r of rows) {
      const key = candidateKey(r.ecosystem, r.name);
      const list = byKey.get(key) ?? [];
      list.push({
        id: r.id,
        aliases: r.aliases,
        summary: r.summary,
        severity: { severity: r.severity, score: r.score, vector: r.vector },
        ecosystem: r.ecosystem,
        release: r.release,
        name: r.name,
        affected: r.affected,
      });
      byKey.set(key, list);
    }
    return byKey;
  }

  importBySha(sha256: string, m: EntityManager = this.db.manager): Promise<AdvisoryImportEntity | null> {
    return m.getRepository<AdvisoryImportEntity>('advisory_import').findOne({ where: { sha256 } });
  }

  importById(id: string): Promise<AdvisoryImportEntity | null> {
    return this.db.getRepository<AdvisoryImportEntity>('advisory_import').findOne({ where: { id } });
  }

  /** The newest import: the database version a scan matched against. */
  async latestImport(m: EntityManager = this.db.manager): Promise<{ seq: number; id: string } | null> {
    const rows: Array<{ seq: number; id: string }> = await m.query(
      'SELECT seq, id FROM advisory_import ORDER BY seq DESC LIMIT 1',
    );
    return rows[0] ?? null;
  }

  listImports(beforeSeq: number | undefined, limit: number): Promise<AdvisoryImportEntity[]> {
    return this.db.query(
      `SELECT id, seq, sha256, source, documents, added, updated, unchanged, created_by AS "createdBy",
              created_at AS "createdAt"
       FROM advisory_import WHERE ($1::int IS NULL OR seq < $1) ORDER BY seq DESC LIMIT $2`,
      [beforeSeq ?? null, limit],
    );
  }

  advisory(id: string): Promise<AdvisoryEntity | null> {
    return this.db.getRepository<AdvisoryEntity>('advisory').findOne({ where: { id } });
  }
}
