import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';

/** What readiness and metrics read from Postgres: small statements, each a probe of its own. */
@Injectable()
export class OpsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A round trip and nothing else: is Postgres there? */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Promotions by status (statuses with none are absent). */
  async promotionCounts(): Promise<Array<{ status: string; count: number }>> {
    const rows: Array<{ status: string; n: string }> = await this.db.query(
      'SELECT status, count(*) AS n FROM promotion GROUP BY status',
    );
    return rows.map((r) => ({ status: r.status, count: Number(r.n) }));
  }

  /** Findings of each environment's latest finished drift check, by kind. */
  async driftCounts(): Promise<Array<{ environment: string; kind: string; count: number }>> {
    const rows: Array<{ environment: string; kind: string; n: string }> = await this.db.query(
      `SELECT e.name AS environment, f.kind, count(*) AS n
       FROM (SELECT DISTINCT ON (environment_id) id, environment_id FROM drift_check
             WHERE status IN ('completed', 'truncated') ORDER BY environment_id, seq DESC) c
       JOIN environment e ON e.id = c.environment_id
       JOIN drift_finding f ON f.check_id = c.id
       GROUP BY e.name, f.kind`,
    );
    return rows.map((r) => ({ environment: r.environment, kind: r.kind, count: Number(r.n) }));
  }

  /** Open verification findings of what is promoted now (the latest promotion per tag). */
  async verificationCounts(): Promise<
    Array<{ environment: string; kind: string; blocking: boolean; count: number }>
  > {
    const rows: Array<{ environment: string; kind: string; blocking: boolean; n: string }> =
      await this.db.query(
        `SELECT e.name AS environment, f.kind, f.blocking, count(*) AS n
       FROM verification_finding f
       JOIN (SELECT DISTINCT ON (environment_id, target_repository, coalesce(tag, digest)) id
             FROM promotion WHERE status = 'promoted'
             ORDER BY environment_id, target_repository, coalesce(tag, digest), seq DESC) cur ON cur.id = f.promotion_id
       JOIN environment e ON e.id = f.environment_id
       WHERE f.resolved_at IS NULL
       GROUP BY e.name, f.kind, f.blocking`,
      );
    return rows.map((r) => ({
      environment: r.environment,
      kind: r.kind,
      blocking: r.blocking,
      count: Number(r.n),
    }));
  }
}
