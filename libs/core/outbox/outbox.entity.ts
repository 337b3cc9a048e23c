import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Jobs waiting to be relayed into BullMQ. Written in the same transaction as the state change
 * that starts the work, so a committed change is always enqueued and a rolled-back one never is.
 */
@Entity('outbox')
@Index('uq_outbox_job_id', ['jobId'], { unique: true })
export class OutboxEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  jobName!: string;

  /** BullMQ job id: deduplicates a relay that ran twice. */
  @Column('text')
  jobId!: string;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  /** Not to run before this instant (a release job delayed until a wait ends); null: at once. */
  @Column('timestamptz', { nullable: true })
  notBefore!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
