import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { type CheckResult } from './check-kind';

@Injectable()
export class CheckRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records the latest result of a check kind; a rerun replaces it and counts the attempt. */
  async upsert(
    promotionId: string,
    kind: string,
    r: CheckResult,
    m: EntityManager = this.db.manager,
  ): Promise<void> {
    await m.query(
      `INSERT INTO promotion_check (promotion_id, kind, status, summary, findings)
       VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (promotion_id, kind) DO UPDATE SET status = EXCLUDED.status, summary = EXCLUDED.summary,
         findings = EXCLUDED.findings, attempts = promotion_check.attempts + 1, finished_at = now()`,
      [promotionId, kind, r.status, r.summary, JSON.stringify(r.findings)],
    );
  }
}
