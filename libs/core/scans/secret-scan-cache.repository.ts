import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type LayerScan, type LayerScanCache } from '../../scan';

/** Puts between two prunes: the bound holds to within this many rows per process. */
const PRUNE_EVERY = 64;

/** Layer scan results in Postgres (table secret_scan_layer), under one version at a time. */
@Injectable()
export class SecretScanCacheRepository {
  private putsSincePrune = new Map<string, number>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The cache for one version; `maxLayers` 0 gives a cache that finds and keeps nothing. */
  forVersion(version: string, maxLayers: number): LayerScanCache {
    if (maxLayers <= 0) return { get: async () => new Map(), put: async () => undefined };
    return {
      get: (digests) => this.get(version, digests),
      put: (digest, scan) => this.put(version, digest, scan, maxLayers),
    };
  }

  private async get(version: string, digests: readonly string[]): Promise<Map<string, LayerScan>> {
    if (digests.length === 0) return new Map();
    // Reading a row is using it: the least recently used go first when the cache is full. (As a
    // CTE: TypeORM answers a bare UPDATE with [rows, count].)
    const rows: Array<{ digest: string; result: LayerScan }> = await this.db.query(
      `WITH used AS (
         UPDATE secret_scan_layer SET used_at = now() WHERE version = $1 AND digest = ANY($2::text[])
         RETURNING digest, result)
       SELECT digest, result FROM used`,
      [version, digests],
    );
    return new Map(rows.map((r) => [r.digest, r.result]));
  }

  private async put(version: string, digest: string, scan: LayerScan, maxLayers: number): Promise<void> {
    await this.db.query(
      `INSERT INTO secret_scan_layer (digest, version, result) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (digest, version) DO UPDATE SET result = EXCLUDED.result, used_at = now()`,
      [digest, version, JSON.stringify(scan)],
    );
    const n = this.putsSincePrune.get(version);
    if (n !== undefined && n + 1 < PRUNE_EVERY) {
      this.putsSincePrune.set(version, n + 1);
      return;
    }
    this.putsSincePrune.set(version, 0);
    await this.prune(version, maxLayers);
  }

  /** Removes results of other versions (rules or limits changed) and the least recently used beyond the bound. */
  async prune(version: string, maxLayers: number): Promise<void> {
    await this.db.query(`DELETE FROM secret_scan_layer WHERE version <> $1`, [version]);
    await this.db.query(
      `DELETE FROM secret_scan_layer WHERE (digest, version) IN (
         SELECT digest, version FROM secret_scan_layer ORDER BY used_at DESC, digest OFFSET $1)`,
      [maxLayers],
    );
  }
}
