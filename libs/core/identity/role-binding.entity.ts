import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor } from './actor';

export enum Role {
  Requester = 'requester',
  Approver = 'approver',
  Admin = 'admin',
  Auditor = 'auditor',
  /** May promote without the approvals in an emergency, with a reason and a follow-up review. */
  BreakGlass = 'break_glass',
}

/**
 * Grants a role to the callers whose verified claims match: always the issuer, plus any of
 * subject, group and repository pattern that are set. `environment` null means every environment.
 */
@Entity('role_binding')
@Index('ix_role_binding_issuer', ['issuer'])
export class RoleBindingEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('enum', { enum: Role, enumName: 'role' })
  role!: Role;

  @Column('text', { nullable: true })
  environment!: string | null;

  @Column('text')
  issuer!: string;

  @Column('text', { nullable: true })
  subject!: string | null;

  @Column('text', { name: 'group_name', nullable: true })
  group!: string | null;

  @Column('text', { nullable: true })
  repositoryPattern!: string | null;

  /**
   * Requester bindings only: the artifact repositories the binding lets its callers ask for. Without
   * it, a CI workload may ask only for its own repository (see `mayRequestRepository`).
   */
  @Column('text', { nullable: true })
  artifactRepositoryPattern!: string | null;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
