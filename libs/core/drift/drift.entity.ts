import {
  Column,
  CreateDateColumn,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { DriftKind } from '../../domain';
import { EnvironmentEntity } from '../environment/environment.entity';
import type { Actor } from '../identity/actor';

export type DriftCheckStatus = 'queued' | 'running' | 'completed' | 'truncated' | 'failed';
export type DriftTrigger = 'schedule' | 'request';

/** What one check read and found. */
export interface DriftCounts {
  repositories: number;
  tags: number;
  /** Tag listing pages and manifest HEADs sent. */
  requests: number;
  findings: number;
  /** Findings by kind (all of them, also beyond DRIFT_MAX_FINDINGS). */
  byKind: Partial<Record<DriftKind, number>>;
  /** Findings found but not stored (over DRIFT_MAX_FINDINGS). */
  notStored: number;
}

/**
 * One comparison of an environment's target registry with what Airlock promoted into it, asked
 * for by a person or by the schedule. Run by the worker (drift.check), read-only on the registry.
 */
@Entity('drift_check')
@Index('ix_drift_check_environment_seq', ['environmentId', 'seq'])
export class DriftCheckEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('bigint')
  @Generated('increment')
  @Index('uq_drift_check_seq', { unique: true })
  seq!: string;

  @Column('uuid')
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_drift_check_environment' })
  environment?: EnvironmentEntity;

  @Column('text')
  trigger!: DriftTrigger;

  @Column('jsonb')
  requestedBy!: Actor;

  @Column('text')
  status!: DriftCheckStatus;

  @Column('text', { default: '' })
  summary!: string;

  @Column('jsonb', { default: {} })
  counts!: Partial<DriftCounts>;

  /** Why a check stopped early (`truncated`) or failed. */
  @Column('text', { nullable: true })
  reason!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}

/** One difference a drift check found (see DriftKind). */
@Entity('drift_finding')
@Index('ix_drift_finding_check', ['checkId'])
export class DriftFindingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid')
  checkId!: string;

  @ManyToOne(() => DriftCheckEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'check_id', foreignKeyConstraintName: 'fk_drift_finding_check' })
  check?: DriftCheckEntity;

  @Column('text')
  kind!: DriftKind;

  @Column('text')
  repository!: string;

  @Column('text', { nullable: true })
  tag!: string | null;

  @Column('text', { nullable: true })
  expectedDigest!: string | null;

  @Column('text', { nullable: true })
  actualDigest!: string | null;

  @Column('uuid', { nullable: true })
  promotionId!: string | null;

  @Column('text')
  message!: string;
}
