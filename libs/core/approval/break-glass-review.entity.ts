import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Actor } from '../identity/actor';
import { PromotionEntity } from '../promotion/promotion.entity';

/**
 * The follow-up to a break-glass promotion: open until a different person signs it off.
 */
@Entity('break_glass_review')
@Index('ix_break_glass_review_open', ['signedOffAt', 'openedAt'])
export class BreakGlassReviewEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  @Index('uq_break_glass_review_promotion_id', { unique: true })
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_break_glass_review_promotion' })
  promotion?: PromotionEntity;

  @Column('jsonb')
  openedBy!: Actor;

  @Column('text')
  openedByPerson!: string;

  @Column('text')
  reason!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  openedAt!: Date;

  @Column('jsonb', { nullable: true })
  signedOffBy!: Actor | null;

  @Column('timestamptz', { nullable: true })
  signedOffAt!: Date | null;

  @Column('text', { nullable: true })
  signOffComment!: string | null;
}
