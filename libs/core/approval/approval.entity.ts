import {
  Column,
  JoinColumn,
  ManyToOne,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Actor } from '../identity/actor';

export enum ApprovalDecision {
  Approve = 'approve',
  Reject = 'reject',
}

import { PromotionEntity } from '../promotion/promotion.entity';
/** One person's decision on a promotion, bound to the digest and policy hash it was given on. */
@Entity('approval')
@Index('ix_approval_promotion_id', ['promotionId'])
export class ApprovalEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_approval_promotion' })
  promotion?: PromotionEntity;

  @Column('enum', { enum: ApprovalDecision, enumName: 'approval_decision' })
  decision!: ApprovalDecision;

  @Column('jsonb')
  approver!: Actor;

  @Column('text')
  approverKey!: string;

  /** The person behind the identity (identity links resolved): separation of duties counts people. */
  @Column('text')
  person!: string;

  /** The approver's groups when deciding, for the rules that name groups. */
  @Column('jsonb', { default: [] })
  groups!: string[];

  @Column('text', { default: '' })
  comment!: string;

  @Column('text')
  digest!: string;

  @Column('char', { length: 64 })
  policySha256!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
