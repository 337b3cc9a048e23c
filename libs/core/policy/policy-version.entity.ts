import {
  Column,
  JoinColumn,
  ManyToOne,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { PolicyDocument } from '../../domain';
import type { Actor } from '../identity/actor';

import { EnvironmentEntity } from '../environment/environment.entity';
/** One immutable, numbered version of an environment's policy, with its content hash. */
@Entity('policy_version')
@Index('uq_policy_version_environment_version', ['environmentId', 'version'], { unique: true })
export class PolicyVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_policy_version_environment' })
  environment?: EnvironmentEntity;

  @Column('int')
  version!: number;

  @Column('jsonb')
  document!: PolicyDocument;

  /** sha256 of the RFC 8785 canonical document; decisions record it. */
  @Column('char', { length: 64 })
  sha256!: string;

  @Column('text', { default: '' })
  comment!: string;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('jsonb', { nullable: true })
  activatedBy!: Actor | null;

  @Column('timestamptz', { nullable: true })
  activatedAt!: Date | null;
}
