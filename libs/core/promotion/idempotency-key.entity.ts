import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An idempotency claim older than this belongs to a request that died; it may be taken over. */
export const STALE_CLAIM_SECONDS = 60;

/**
 * An Idempotency-Key a caller sent, scoped to that caller. Claimed before the request is handled
 * (promotionId null: in progress) and completed in the same statement that creates the promotion.
 */
@Entity('idempotency_key')
export class IdempotencyKeyEntity {
  @PrimaryColumn('text')
  requesterKey!: string;

  @PrimaryColumn('text')
  key!: string;

  @Column('char', { length: 64 })
  requestHash!: string;

  @Column('uuid', { nullable: true })
  promotionId!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
