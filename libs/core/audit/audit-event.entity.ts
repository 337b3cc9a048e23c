import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor } from '../identity/actor';

/**
 * An audit event not yet sealed into the chain. Written in the same statement or transaction as
 * the change it records; the AuditSealer moves it into `audit_event` in commit order, so writers
 * never wait on one another for the chain head.
 */
@Entity('audit_pending')
export class AuditPendingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('timestamptz', { default: () => 'now()' })
  occurredAt!: Date;

  @Column('jsonb')
  actor!: Actor;

  @Column('text')
  action!: string;

  @Column('text')
  subjectType!: string;

  @Column('text')
  subjectId!: string;

  @Column('jsonb', { default: {} })
  details!: Record<string, unknown>;
}

/**
 * One link of the tamper-evident audit chain. hash = sha256(canonical JSON of the event fields and
 * prevHash). The database refuses UPDATE, DELETE and TRUNCATE on this table (see migrations).
 */
@Entity('audit_event')
@Index('ix_audit_event_subject', ['subjectType', 'subjectId', 'seq'])
@Index('ix_audit_event_action_seq', ['action', 'seq'])
export class AuditEventEntity {
  @PrimaryColumn('bigint')
  seq!: string;

  @Column('timestamptz')
  occurredAt!: Date;

  @Column('jsonb')
  actor!: Actor;

  /** actorKey(actor), for filtering. */
  @Column('text')
  actorKey!: string;

  @Column('text')
  action!: string;

  @Column('text')
  subjectType!: string;

  @Column('text')
  subjectId!: string;

  @Column('jsonb')
  details!: Record<string, unknown>;

  @Column('char', { length: 64 })
  prevHash!: string;

  @Column('char', { length: 64 })
  hash!: string;
}
