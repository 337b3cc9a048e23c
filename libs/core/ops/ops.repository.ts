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
}
