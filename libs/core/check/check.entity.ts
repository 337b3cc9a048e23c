import { Column, JoinColumn, ManyToOne, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CheckStatus } from '../../domain';

import { PromotionEntity } from '../promotion/promotion.entity';
/** One verification the worker ran for a promotion: status, a human summary, machine findings. */
@Entity('promotion_check')
@Index('uq_promotion_check_promotion_id_kind', ['promotionId', 'kind'], { unique: true })
export class CheckEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_promotion_check_promotion' })
  promotion?: PromotionEntity;

  @Column('text')
  kind!: string;

  @Column('enum', { enum: CheckStatus, enumName: 'check_status' })
  status!: CheckStatus;

  @Column('text')
  summary!: string;

  @Column('jsonb', { default: [] })
  findings!: unknown[];

  @Column('int', { default: 1 })
  attempts!: number;

  /** Waivers that let this check, or findings of it, pass (`waived`); empty for the rest. */
  @Column('jsonb', { default: [] })
  waivers!: Array<{ waiver: string; finding: string | null }>;

  @Column('timestamptz', { default: () => 'now()' })
  finishedAt!: Date;
}
