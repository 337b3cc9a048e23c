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
import { EnvironmentEntity } from '../environment/environment.entity';
import { PromotionEntity } from '../promotion/promotion.entity';

/**
 * The evidence continuous verification re-judges: the packages of a promotion's verified SBOMs,
 * stored when its checks read them, so later advisories and policies are matched without reading
 * the registry again.
 */
@Entity('promotion_package')
@Index('ix_promotion_package_identity', ['ecosystem', 'packageName'])
export class PromotionPackageEntity {
  @PrimaryColumn('uuid')
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_promotion_package_promotion' })
  promotion?: PromotionEntity;

  /** Position in the SBOM's package list. */
  @PrimaryColumn('int')
  ordinal!: number;

  @Column('text')
  name!: string;

  @Column('text', { nullable: true })
  version!: string | null;

  @Column('text', { nullable: true })
  purl!: string | null;

  /** OSV ecosystem of the package URL (null: no advisory database covers its type). */
  @Column('text', { nullable: true })
  ecosystem!: string | null;

  /** The name as the ecosystem's advisories spell it (PackageIdentity.name). */
  @Column('text', { nullable: true })
  packageName!: string | null;

  @Column('text', { nullable: true })
  release!: string | null;

  @Column('text', { nullable: true })
  license!: string | null;
}

export type VerificationTrigger = 'advisories' | 'policy';
export type VerificationStatus = 'queued' | 'running' | 'completed' | 'failed';

/**
 * One re-judging of what is promoted: after an advisory import (only the advisories it changed)
 * or a policy activation (the environment's promoted digests under the new policy).
 */
@Entity('verification_run')
export class VerificationRunEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('bigint')
  @Generated('increment')
  @Index('uq_verification_run_seq', { unique: true })
  seq!: string;

  @Column('text')
  trigger!: VerificationTrigger;

  /** The import whose changed advisories are matched (trigger `advisories`). */
  @Column('uuid', { nullable: true })
  importId!: string | null;

  /** The environment whose policy was activated (trigger `policy`). */
  @Column('uuid', { nullable: true })
  environmentId!: string | null;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_verification_run_environment' })
  environment?: EnvironmentEntity;

  @Column('int', { nullable: true })
  policyVersion!: number | null;

  @Column('text')
  status!: VerificationStatus;

  @Column('text', { default: '' })
  summary!: string;

  @Column('jsonb', { default: {} })
  counts!: Record<string, unknown>;

  @Column('text', { nullable: true })
  reason!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  finishedAt!: Date | null;
}

/**
 * What a promoted digest is found to carry now: an advisory that affects one of its packages, or a
 * license the active policy no longer accepts. Open until a later run no longer finds it.
 */
@Entity('verification_finding')
@Index('uq_verification_finding_key', ['promotionId', 'kind', 'subject', 'package'], { unique: true })
@Index('ix_verification_finding_environment', ['environmentId', 'resolvedAt'])
export class VerificationFindingEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid')
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_verification_finding_environment' })
  environment?: EnvironmentEntity;

  @Column('uuid')
  promotionId!: string;

  @ManyToOne(() => PromotionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'promotion_id', foreignKeyConstraintName: 'fk_verification_finding_promotion' })
  promotion?: PromotionEntity;

  /** `vulnerability` or `license`. */
  @Column('text')
  kind!: string;

  /** The advisory id, or the license expression. */
  @Column('text')
  subject!: string;

  /** The package URL (or name). */
  @Column('text')
  package!: string;

  @Column('text', { nullable: true })
  version!: string | null;

  @Column('text', { nullable: true })
  severity!: string | null;

  @Column('text', { nullable: true })
  fixedIn!: string | null;

  /** Whether the environment's active policy would block it now. */
  @Column('boolean')
  blocking!: boolean;

  @Column('text', { nullable: true })
  note!: string | null;

  @Column('jsonb', { default: {} })
  detail!: Record<string, unknown>;

  @Column('uuid')
  lastRunId!: string;

  @Column('timestamptz')
  foundAt!: Date;

  @Column('timestamptz', { nullable: true })
  resolvedAt!: Date | null;
}
