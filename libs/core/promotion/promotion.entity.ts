import {
  Column,
  JoinColumn,
  ManyToOne,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  UpdateDateColumn,
  Generated,
} from 'typeorm';
import { type GateEvidence, PromotionKind, PromotionStatus, type WaitingFor } from '../../domain';
import type { Actor } from '../identity/actor';

import { EnvironmentEntity } from '../environment/environment.entity';
import { PolicyVersionEntity } from '../policy/policy-version.entity';
/** Claims of the CI token that requested a promotion, kept as evidence and for separation of duties. */
export interface CiClaimsSnapshot {
  repository?: string;
  ref?: string;
  sha?: string;
  workflow?: string;
  actor?: string;
  [claim: string]: unknown;
}

/** Where Airlock's attestation of a promotion lives, and what it holds. */
export interface PromotionAttestationRef {
  /** `registry/repository:sha256-<hex>.att`, cosign's attestation tag for the promoted digest. */
  reference: string;
  /** Digest of the attestation manifest. */
  digest: string;
  predicateTypes: string[];
  /** Id of Airlock's key that signed it (see signingKeyId; older rows: hex sha256 of the DER SPKI). */
  keyId: string;
}

/**
 * One request to promote one artifact, pinned by digest, into one environment under the policy
 * version that was active when it was received. Its status only changes through
 * PromotionStateMachine.
 */
@Entity('promotion')
@Index('ix_promotion_environment_seq', ['environmentId', 'seq'])
@Index('ix_promotion_status_seq', ['status', 'seq'])
@Index('ix_promotion_requester_seq', ['requesterKey', 'seq'])
@Index('ix_promotion_digest_seq', ['digest', 'seq'])
@Index('ix_promotion_target_registry_tag', ['targetRegistry', 'targetRepository', 'tag'])
@Index('ix_promotion_target_tag', ['environmentId', 'targetRepository', 'tag'], { where: 'tag IS NOT NULL' })
@Index('uq_promotion_token', ['tokenIssuer', 'tokenJti'], { unique: true, where: 'token_jti IS NOT NULL' })
export class PromotionEntity {
  @PrimaryColumn('uuid')
  id!: string;

  /** Insertion order: the stable key behind cursor pagination. */
  @Column('bigint')
  @Generated('increment')
  @Index('uq_promotion_seq', { unique: true })
  seq!: string;

  @Column('uuid')
  environmentId!: string;

  @ManyToOne(() => EnvironmentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'environment_id', foreignKeyConstraintName: 'fk_promotion_environment' })
  environment?: EnvironmentEntity;

  @Column('uuid')
  policyVersionId!: string;

  @ManyToOne(() => PolicyVersionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'policy_version_id', foreignKeyConstraintName: 'fk_promotion_policy_version' })
  policyVersion?: PolicyVersionEntity;

  @Column('char', { length: 64 })
  policySha256!: string;

  @Column('text')
  sourceRegistry!: string;

  @Column('text')
  sourceRepository!: string;

  @Column('text')
  digest!: string;

  /** The tag the caller named at intake, if any; kept for the record only. */
  @Column('text', { nullable: true })
  tag!: string | null;

  @Column('text')
  targetRegistry!: string;

  @Column('text')
  targetRepository!: string;

  @Column('enum', { enum: PromotionStatus, enumName: 'promotion_status' })
  status!: PromotionStatus;

  @Column('jsonb')
  requester!: Actor;

  /** actorKey(requester), indexed for filters and idempotency scope. */
  @Column('text')
  requesterKey!: string;

  @Column('jsonb', { default: {} })
  claims!: CiClaimsSnapshot;

  @Column('jsonb', { default: {} })
  metadata!: Record<string, string>;

  @Column('text', { nullable: true })
  tokenIssuer!: string | null;

  /** The CI token's jti: one token creates at most one promotion. */
  @Column('text', { nullable: true })
  tokenJti!: string | null;

  @Column('text', { nullable: true })
  idempotencyKey!: string | null;

  /** sha256 of the canonical request body, to tell a retry from a different request. */
  @Column('char', { length: 64 })
  requestHash!: string;

  /** Airlock's signed attestation in the target registry, once promoted. */
  @Column('jsonb', { nullable: true })
  attestation!: PromotionAttestationRef | null;

  /**
   * Approvals were skipped by break-glass. Set by that transition (PromotionStateMachine) and never
   * cleared; the promoter's attestation says so.
   */
  @Column('boolean', { default: false })
  breakGlass!: boolean;

  /** A new digest, or a rollback to a digest Airlock promoted to this tag before. */
  @Column('enum', { enum: PromotionKind, enumName: 'promotion_kind', default: PromotionKind.Promotion })
  kind!: PromotionKind;

  /** A rollback: the promotion whose digest the tag held when the rollback was requested. */
  @Column('uuid', { nullable: true })
  rollbackFromPromotionId!: string | null;

  /** A rollback: the earlier promotion whose digest it puts back. */
  @Column('uuid', { nullable: true })
  rollbackToPromotionId!: string | null;

  /** While waiting: what for (soak, freeze) and until when; null otherwise. */
  @Column('text', { nullable: true })
  waitingFor!: WaitingFor | null;

  @Column('timestamptz', { nullable: true })
  waitingUntil!: Date | null;

  /** What the gate relied on when the copy started (upstream promotion, soak, freeze override). */
  @Column('jsonb', { nullable: true })
  gate!: GateEvidence | null;

  /** Why the request ended where it is (rejection reasons, failure cause, cancel reason). */
  @Column('jsonb', { default: [] })
  reasons!: string[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
