import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { type CheckStatus } from '../../domain';
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
      `INSERT INTO promotion_check (promotion_id, kind, status, summary, findings, waivers)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
       ON CONFLICT (promotion_id, kind) DO UPDATE SET status = EXCLUDED.status, summary = EXCLUDED.summary,
         findings = EXCLUDED.findings, waivers = EXCLUDED.waivers, attempts = promotion_check.attempts + 1,
         finished_at = now()`,
      [promotionId, kind, r.status, r.summary, JSON.stringify(r.findings), JSON.stringify(r.waivers ?? [])],
    );
  }

  /** The stored results of these promotions, by promotion id (evaluations reuse them as evidence). */
  async forPromotions(
    ids: readonly string[],
  ): Promise<
    Map<string, Array<{ kind: string; status: CheckStatus; summary: string; findings: unknown[] }>>
  > {
    const out = new Map<
      string,
      Array<{ kind: string; status: CheckStatus; summary: string; findings: unknown[] }>
    >();
    if (ids.length === 0) return out;
    const rows: Array<{
      promotion_id: string;
      kind: string;
      status: CheckStatus;
      summary: string;
      findings: unknown[];
    }> = await this.db.query(
      'SELECT promotion_id, kind, status, summary, findings FROM promotion_check WHERE promotion_id = ANY($1::uuid[])',
      [ids],
    );
    for (const r of rows) {
      const list = out.get(r.promotion_id) ?? [];
      list.push({ kind: r.kind, status: r.status, summary: r.summary, findings: r.findings });
      out.set(r.promotion_id, list);
    }
    return out;
  }
}
