import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { PromotionStatus, type UpstreamOccupancy } from '../../domain';

/** One promotion of a digest, for the view of where a digest stands across environments. */
export interface DigestPromotionRow {
  id: string;
  environment: string;
  status: PromotionStatus;
  tag: string | null;
  target: string;
  createdAt: Date;
  promotedAt: Date | null;
  supersededAt: Date | null;
  waitingFor: string | null;
  waitingUntil: Date | null;
}

/**
 * Each promoted promotion of the digest with when it was promoted and, when it went to a tag, when
 * another digest first took that same target tag in the same environment afterwards (Airlock's
 * records: a tag moved outside Airlock is not seen). `$1`: the digest; `$2`: environment names or NULL.
 */
const PROMOTIONS_OF_DIGEST = `
  WITH mine AS (
    SELECT p.id, p.environment_id, e.name AS environment, p.status, p.tag, p.target_registry,
           p.target_repository, p.created_at, p.waiting_for, p.waiting_until, p.seq,
           (SELECT max(h.at) FROM promotion_status_change h
             WHERE h.promotion_id = p.id AND h.to_status = '${PromotionStatus.Promoted}') AS promoted_at
    FROM promotion p JOIN environment e ON e.id = p.environment_id
    WHERE p.digest = $1 AND ($2::text[] IS NULL OR e.name = ANY($2::text[]))
  )
  SELECT m.id, m.environment, m.status, m.tag, m.created_at AS "createdAt", m.promoted_at AS "promotedAt",
         m.target_registry || '/' || m.target_repository AS target,
         m.waiting_for AS "waitingFor", m.waiting_until AS "waitingUntil",
         CASE WHEN m.tag IS NULL OR m.promoted_at IS NULL THEN NULL ELSE (
           SELECT min(h2.at) FROM promotion q
             JOIN promotion_status_change h2 ON h2.promotion_id = q.id AND h2.to_status = '${PromotionStatus.Promoted}'
           WHERE q.environment_id = m.environment_id AND q.status = '${PromotionStatus.Promoted}'
             AND q.target_registry = m.target_registry AND q.target_repository = m.target_repository
             AND q.tag = m.tag AND q.digest <> $1 AND h2.at > m.promoted_at) END AS "supersededAt"
  FROM mine m ORDER BY m.environment, m.seq`;

@Injectable()
export class GateRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Where the digest has been promoted, in these environments (the chain's upstreams). */
  async occupancies(environments: readonly string[], digest: string): Promise<UpstreamOccupancy[]> {
    if (environments.length === 0) return [];
    const rows = await this.promotionsOf(digest, environments);
    return rows
      .filter((r) => r.status === PromotionStatus.Promoted && r.promotedAt !== null)
      .map((r) => ({
        environment: r.environment,
        promotionId: r.id,
        tag: r.tag,
        promotedAt: r.promotedAt as Date,
        supersededAt: r.supersededAt,
      }));
  }

  /** Every promotion of the digest (in `environments`, or everywhere), by environment then age. */
  async promotionsOf(digest: string, environments: readonly string[] | null): Promise<DigestPromotionRow[]> {
    const rows: DigestPromotionRow[] = await this.db.query(PROMOTIONS_OF_DIGEST, [
      digest,
      environments ? [...environments] : null,
    ]);
    const date = (v: unknown): Date | null => (v ? new Date(v as string) : null);
    return rows.map((r) => ({
      ...r,
      createdAt: new Date(r.createdAt),
      promotedAt: date(r.promotedAt),
      supersededAt: date(r.supersededAt),
      waitingUntil: date(r.waitingUntil),
    }));
  }
}
