import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One layer's secret scan, stored so the layer is not read again: keyed by the layer's digest and
 * the version of the scan (rules, limits, fingerprint key; see layerScanVersion). Bounded: the least
 * recently used rows beyond SECRET_SCAN_CACHE_MAX_LAYERS and rows of other versions are removed.
 */
@Entity('secret_scan_layer')
@Index('ix_secret_scan_layer_used_at', ['usedAt'])
export class SecretScanLayerEntity {
  @PrimaryColumn('text')
  digest!: string;

  @PrimaryColumn('char', { length: 64 })
  version!: string;

  /** The LayerScan: findings (no secret, only previews and fingerprints), whiteouts, counts. */
  @Column('jsonb')
  result!: unknown;

  @Column('timestamptz', { default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { default: () => 'now()' })
  usedAt!: Date;
}
