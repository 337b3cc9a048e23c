import { Column, JoinColumn, ManyToOne, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { PromotionStatus } from '../../domain';
import type { Actor } from '../identity/actor';

import { PromotionEntity } from './promotion.entity';
/** Every status a promotion went through, written in the same statement as the change itself. */
@Entity('promotion_status_change')
@Index('ix_promotion_status_change_promotion_id', ['promotionId', 'id'])
export class PromotionStatusChangeEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid')
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_promotion_status_change_promotion' })
  promotion?: PromotionEntity;

  @Column('enum', { enum: PromotionStatus, enumName: 'promotion_status', nullable: true })
  fromStatus!: PromotionStatus | null;

  @Column('enum', { enum: PromotionStatus, enumName: 'promotion_status' })
  toStatus!: PromotionStatus;

  @Column('jsonb')
  actor!: Actor;

  @Column('text', { default: '' })
  reason!: string;

  @Column('timestamptz', { default: () => 'now()' })
  at!: Date;
}
