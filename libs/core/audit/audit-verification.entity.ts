import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type AuditCheckpoint, type AuditVerification } from '../../domain';
import type { Actor } from '../identity/actor';

/** Where a verification stands. `completed` says the walk ran to its end; `ok` says what it found. */
export enum AuditVerificationStatus {
  /** Waiting for a worker. */
  Queued = 'queued',
  Running = 'running',
  /** The walk reached its end: `ok` and `report` hold the outcome. */
  Completed = 'completed',
  /** Stopped on request, or because the client stopped asking about it. */
  Cancelled = 'cancelled',
  /** The walk could not run to its end (database gone, worker gave up): nothing is known. */
  Errored = 'errored',
}

export const FINISHED_VERIFICATION: readonly AuditVerificationStatus[] = [
  AuditVerificationStatus.Completed,
  AuditVerificationStatus.Cancelled,
  AuditVerificationStatus.Errored,
];

/** Where a walk starts: the genesis, or the newest checkpoint an earlier walk proved. */
export enum VerificationStart {
  Genesis = 'genesis',
  Checkpoint = 'checkpoint',
}

/**
 * One verification of the audit chain and its outcome: the range walked, the result, how long it
 * took. The newest checkpoint a sound walk proved is where the next incremental walk starts, and
 * the history of these rows says when the chain was last proven whole.
 */
@Entity('audit_verification')
@Index('ix_audit_verification_created', ['createdAt'])
export class AuditVerificationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('jsonb')
  requestedBy!: Actor;

  @Column('text')
  status!: AuditVerificationStatus;

  /** What was asked for; `start` is what the walk could do (no proven checkpoint: the genesis). */
  @Column('text')
  requestedStart!: VerificationStart;

  @Column('text')
  start!: VerificationStart;

  /** The link the walk starts after (0: the genesis) and the checkpoint anchoring it. */
  @Column('bigint')
  fromSeq!: string;

  @Column('jsonb', { nullable: true })
  anchor!: AuditCheckpoint | null;

  /** The chain head when the walk was asked for: the walk ends there, whatever is sealed meanwhile. */
  @Column('bigint')
  toSeq!: string;

  /** Events recorded but not sealed yet when the walk was asked for (not covered by it). */
  @Column('integer')
  pendingAtStart!: number;

  /** Links found sound so far (progress), then in all. */
  @Column('bigint', { default: 0 })
  checked!: string;

  @Column('boolean', { nullable: true })
  ok!: boolean | null;

  @Column('jsonb', { nullable: true })
  report!: AuditVerification | null;

  /** The newest checkpoint this walk proved: where the next incremental walk may start. */
  @Column('jsonb', { nullable: true })
  provenCheckpoint!: AuditCheckpoint | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('boolean', { default: false })
  cancelRequested!: boolean;

  /**
   * When a client last asked about this verification. A walk nobody asks about for
   * AUDIT_VERIFY_ABANDON_SECONDS stops: the client went away.
   */
  @Column('timestamptz', { default: () => 'now()' })
  clientSeenAt!: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;

  @Column('integer', { nullable: true })
  durationMs!: number | null;
}
