import { Column, CreateDateColumn, Entity, Generated, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ChangeKind, ChangeStatus } from '../../domain';
import type { Actor } from '../identity/actor';

/**
 * A proposed change to who is trusted (issuers, role bindings, identity links, environments'
 * sources, target and credential profiles). Nothing is applied until a different person approves;
 * the payload is the request body as validated, and holds no secrets (only secret names).
 */
@Entity('proposed_change')
@Index('ix_proposed_change_status_seq', ['status', 'seq'])
export class ProposedChangeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Insertion order: the stable key behind cursor pagination. */
  @Column('bigint')
  @Generated('increment')
  @Index('uq_proposed_change_seq', { unique: true })
  seq!: string;

  @Column('enum', { enum: ChangeKind, enumName: 'change_kind' })
  kind!: ChangeKind;

  @Column('enum', { enum: ChangeStatus, enumName: 'change_status' })
  status!: ChangeStatus;

  /** One readable line for the reviewer, written at proposal time. */
  @Column('text')
  summary!: string;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  @Column('jsonb')
  proposedBy!: Actor;

  /** The proposer's person when they proposed (see IdentityLinkService.namesOf). */
  @Column('text')
  proposedByPerson!: string;

  @Column('jsonb', { nullable: true })
  decidedBy!: Actor | null;

  @Column('timestamptz', { nullable: true })
  decidedAt!: Date | null;

  /** Why it was rejected or withdrawn; for `failed`, why it could no longer apply. */
  @Column('text', { nullable: true })
  comment!: string | null;

  /** What applying returned (the created binding, environment, …). */
  @Column('jsonb', { nullable: true })
  result!: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
