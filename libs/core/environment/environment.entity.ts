import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { SourceRule, TargetMapping } from '../../domain';

/** A named destination: which sources may enter, where promoted artifacts go, the active policy. */
@Entity('environment')
@Index('uq_environment_name', ['name'], { unique: true })
export class EnvironmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text', { default: '' })
  description!: string;

  @Column('jsonb')
  sources!: SourceRule[];

  @Column('jsonb')
  target!: TargetMapping;

  /**
   * The environments a digest must have been promoted into before it may be requested here (the
   * chain: dev → staging → production). Changed only by a four-eyes change.
   */
  @Column('text', { array: true, default: '{}' })
  upstreams!: string[];

  /** The policy version new promotions pin; null until a second admin activates one. */
  @Column('uuid', { nullable: true })
  activePolicyVersionId!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
