import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEnum,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { DIGEST, PromotionKind, PromotionStatus } from '../../domain';
import { PageQuery } from '../common/page-query';
import { ENVIRONMENT_NAME } from '../environment/environment.dto';
import { type PromotionEntity } from './promotion.entity';

@ValidatorConstraint({ name: 'metadata' })
class MetadataConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const entries = Object.entries(value);
    return (
      entries.length <= 32 &&
      entries.every(([k, v]) => /^[A-Za-z0-9._/-]{1,64}$/.test(k) && typeof v === 'string' && v.length <= 512)
    );
  }
  defaultMessage(): string {
    return 'metadata must be an object of at most 32 string values (keys: letters, digits, . _ / -; values ≤ 512 chars)';
  }
}

export class CreatePromotionDto {
  @ApiProperty({ example: 'registry.staging.example.com/team/app@sha256:' + 'a'.repeat(64) })
  @IsString()
  @MaxLength(512)
  artifact!: string;

  @ApiProperty({ example: 'production' })
  @IsString()
  @Matches(ENVIRONMENT_NAME, { message: 'environment must be an environment name' })
  environment!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  @Validate(MetadataConstraint)
  metadata?: Record<string, string>;
}

export class CancelPromotionDto {
  @ApiPropertyOptional({ description: 'Why it is cancelled' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string;
}

export class ListPromotionsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PromotionStatus })
  @IsOptional()
  @IsEnum(PromotionStatus)
  status?: PromotionStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ENVIRONMENT_NAME, { message: 'environment must be an environment name' })
  environment?: string;

  @ApiPropertyOptional({ description: 'Requester identity, as shown in `requester` (subject@issuer)' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  requester?: string;

  @ApiPropertyOptional({ example: 'sha256:' + 'a'.repeat(64) })
  @IsOptional()
  @Matches(DIGEST, { message: 'digest must be sha256: followed by 64 lowercase hex characters' })
  digest?: string;

  @ApiPropertyOptional({ enum: PromotionKind, description: 'Only promotions, or only rollbacks' })
  @IsOptional()
  @IsEnum(PromotionKind)
  kind?: PromotionKind;
}

export class StatusChangeView {
  @ApiPropertyOptional({ enum: PromotionStatus, nullable: true }) from!: PromotionStatus | null;
  @ApiProperty({ enum: PromotionStatus }) to!: PromotionStatus;
  @ApiProperty() actor!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() at!: string;
}

export class CheckView {
  @ApiProperty() kind!: string;
  @ApiProperty({
    enum: ['pass', 'fail', 'error', 'waived'],
    description: '`waived`: failed, let through by the waivers named',
  })
  status!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) findings!: unknown[];
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: { waiver: { type: 'string' }, finding: { type: 'string', nullable: true } },
    },
    description: 'Waivers that let this check (finding null) or findings of it pass',
  })
  waivers!: Array<{ waiver: string; finding: string | null }>;
  @ApiProperty() attempts!: number;
  @ApiProperty() finishedAt!: string;
}

export class ApprovalView {
  @ApiProperty({ enum: ['approve', 'reject'] }) decision!: string;
  @ApiProperty() approver!: string;
  @ApiProperty() comment!: string;
  @ApiProperty() digest!: string;
  @ApiProperty() policySha256!: string;
  @ApiProperty() at!: string;
}

export class RollbackView {
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'The promotion whose digest the tag held when the rollback was requested',
  })
  fromPromotionId!: string | null;
  @ApiProperty({ description: 'The earlier promotion whose digest the rollback puts back' })
  toPromotionId!: string;
}

export class UpstreamEvidenceView {
  @ApiProperty() environment!: string;
  @ApiProperty() promotionId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty() promotedAt!: string;
}

export class SoakEvidenceView {
  @ApiProperty({ description: "the policy's soak duration" }) required!: string;
  @ApiProperty({ description: 'not waited for (a rollback)' }) skipped!: boolean;
  @ApiProperty() since!: string;
  @ApiProperty() observedSeconds!: number;
}

export class FreezeEvidenceView {
  @ApiProperty({ description: 'a freeze held when the copy started and break-glass overrode it' })
  overridden!: boolean;
  @ApiProperty({ type: [String] }) windows!: string[];
}

export class GateEvidenceView {
  @ApiPropertyOptional({ nullable: true, type: UpstreamEvidenceView }) upstream!: UpstreamEvidenceView | null;
  @ApiPropertyOptional({ nullable: true, type: SoakEvidenceView }) soak!: SoakEvidenceView | null;
  @ApiProperty({ type: FreezeEvidenceView }) freeze!: FreezeEvidenceView;
}

export class PromotionView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: PromotionStatus }) status!: PromotionStatus;
  @ApiProperty({ enum: PromotionKind, description: 'A new digest, or a rollback to an earlier one' })
  kind!: PromotionKind;
  @ApiPropertyOptional({ type: RollbackView, nullable: true, description: 'Set on a rollback' })
  rollback!: RollbackView | null;
  @ApiProperty() artifact!: string;
  @ApiProperty() sourceRegistry!: string;
  @ApiProperty() sourceRepository!: string;
  @ApiProperty() digest!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty() environment!: string;
  @ApiProperty() target!: string;
  @ApiProperty() policyVersion!: number;
  @ApiProperty() policySha256!: string;
  @ApiProperty() requester!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) claims!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<
    string,
    string
  >;
  @ApiProperty({ type: [String] }) reasons!: string[];
  @ApiPropertyOptional({
    nullable: true,
    enum: ['soak', 'freeze'],
    description: 'While waiting: the soak in the upstream environment, or a freeze window',
  })
  waitingFor!: 'soak' | 'freeze' | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'While waiting: when it moves on by itself',
  })
  waitingUntil!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: GateEvidenceView,
    description: 'What the gate relied on when the copy started (upstream promotion, soak, freeze)',
  })
  gate!: GateEvidenceView | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  /** The API's summary view of a promotion row. */
  static of(p: PromotionEntity, environment: string, policyVersion: number): PromotionView {
    return {
      id: p.id,
      status: p.status,
      kind: p.kind,
      rollback: p.rollbackToPromotionId
        ? { fromPromotionId: p.rollbackFromPromotionId, toPromotionId: p.rollbackToPromotionId }
        : null,
      artifact: `${p.sourceRegistry}/${p.sourceRepository}@${p.digest}`,
      sourceRegistry: p.sourceRegistry,
      sourceRepository: p.sourceRepository,
      digest: p.digest,
      tag: p.tag,
      environment,
      target: `${p.targetRegistry}/${p.targetRepository}@${p.digest}`,
      policyVersion,
      policySha256: p.policySha256,
      requester: p.requesterKey,
      claims: p.claims,
      metadata: p.metadata,
      reasons: p.reasons,
      waitingFor: p.waitingFor,
      waitingUntil: p.waitingUntil ? new Date(p.waitingUntil).toISOString() : null,
      gate: p.gate,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
    };
  }
}

export class AttestationView {
  @ApiProperty({ description: 'cosign attestation tag in the target registry' }) reference!: string;
  @ApiProperty() digest!: string;
  @ApiProperty({ type: [String] }) predicateTypes!: string[];
  @ApiProperty({
    description:
      "Id of Airlock's key that signed it (`SHA256:<base64>`, GET /v1/keys; attestations made before key ids were unified carry the key's hex SPKI sha256)",
  })
  keyId!: string;
}

export class PromotionDetailView extends PromotionView {
  @ApiPropertyOptional({ type: AttestationView, nullable: true }) attestation!: AttestationView | null;
  @ApiProperty({ type: [CheckView] }) checks!: CheckView[];
  @ApiProperty({ type: [ApprovalView] }) approvals!: ApprovalView[];
  @ApiProperty({ type: [StatusChangeView] }) history!: StatusChangeView[];
}

export class PromotionPage {
  @ApiProperty({ type: [PromotionView] }) items!: PromotionView[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
