import {
  Column,
  CreateDateColumn,
  Entity,
  Generated,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { WaiverStatus } from '../../domain';
import { EnvironmentEntity } from '../environment/environment.entity';
import type { Actor } from '../identity/actor';

/**
 * An exception to an environment's policy: one failing check, or one finding of it, may pass for
 * one digest or one repository pattern until `expiresAt`. Requested by one person, granted by
 * another; revocable. Check results name the waiver that let them through.
 */
@Entity('waiver')
@Index('ix_waiver_environment_status', ['environmentId', 'status'])
export class WaiverEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Insertion order: the stable key behind cursor pagination. */
  @Column('bigint')
  @Generated('increment')
  @Index('uq_waiver_seq', { unique: true })
  seq!: string;

  @Column('uuid')
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_waiver_environment' })
  environment?: EnvironmentEntity;

  /** The check kind it names. */
  @Column('text')
  check!: string;

  /** One finding of that check (advisory id or alias, secret fingerprint, license); null: the whole check. */
  @Column('text', { nullable: true })
  finding!: string | null;

  @Column('text', { nullable: true })
  digest!: string | null;

  @Column('text', { nullable: true })
  repositoryPattern!: string | null;

  @Column('text')
  reason!: string;

  @Column('timestamptz')
  expiresAt!: Date;

  @Column('enum', { enum: WaiverStatus, enumName: 'waiver_status' })
  status!: WaiverStatus;

  @Column('jsonb')
  requestedBy!: Actor;

  /** The requester's person when they asked (see IdentityLinkService.namesOf). */
  @Column('text')
  requestedByPerson!: string;

  @Column('jsonb', { nullable: true })
  grantedBy!: Actor | null;

  @Column('timestamptz', { nullable: true })
  grantedAt!: Date | null;

  @Column('jsonb', { nullable: true })
  revokedBy!: Actor | null;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  @Column('text', { nullable: true })
  revokeReason!: string | null;

  /** When the end of a granted waiver was announced (audit and webhook `waiver.expired`), once. */
  @Column('timestamptz', { nullable: true })
  expiryAnnouncedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
