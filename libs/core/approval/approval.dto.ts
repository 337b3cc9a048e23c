import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEnum,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  Validate,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { DIGEST, identityFormProblem } from '../../domain';
import { PromotionView } from '../promotion/promotion.dto';
import { ApprovalDecision } from './approval.entity';

export class DecideDto {
  @ApiProperty({ enum: ApprovalDecision })
  @IsEnum(ApprovalDecision)
  decision!: ApprovalDecision;

  @ApiPropertyOptional({ description: 'Required for a reject' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  comment?: string;

  @ApiProperty({ description: 'The digest you reviewed; refused if the request now names another' })
  @Matches(DIGEST, { message: 'digest must be sha256: followed by 64 lowercase hex characters' })
  digest!: string;

  @ApiPropertyOptional({ description: 'The policy hash you reviewed under, if you want it checked too' })
  @IsOptional()
  @Matches(/^[a-f0-9]{64}$/, { message: 'policySha256 must be 64 lowercase hex characters' })
  policySha256?: string;
}

export class BreakGlassDto {
  @ApiProperty({ description: 'Why this cannot wait for the approvals (kept in the audit trail)' })
  @IsString()
  @MinLength(10, { message: 'reason must say why, in at least 10 characters' })
  @MaxLength(4000)
  reason!: string;
}

export class SignOffDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  comment!: string;
}

/** Only the forms Airlock compares (see identityFormProblem): a link on anything else never matches. */
@ValidatorConstraint({ name: 'identityForm' })
class IdentityFormConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && identityFormProblem(value) === null;
  }
  defaultMessage(args: ValidationArguments): string {
    return typeof args.value === 'string'
      ? (identityFormProblem(args.value) ?? 'identity: invalid')
      : 'identity must be a string';
  }
}

export class LinkIdentityDto {
  @ApiProperty({
    description:
      'An identity key as `whoami` shows it (subject@issuer, the issuer an http(s) URL) or handle:<name> as CI claims name people',
    example: 'frank@https://login.example.com',
  })
  @IsString()
  @Validate(IdentityFormConstraint)
  identity!: string;

  @ApiProperty({ description: 'The person this identity belongs to' })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'person must be printable ASCII without spaces' })
  person!: string;
}

export class TallyView {
  @ApiProperty() satisfied!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } })
  assignment!: Record<string, string[]>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) missing!: Record<
    string,
    number
  >;
  @ApiProperty({ type: [String], description: 'People whose approval is older than the policy allows' })
  expired!: string[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'Approvals that no longer count because their approver no longer may approve (role removed, identity linked to a party), with the refusal code',
  })
  lapsed!: Array<{ person: string; refusal: string }>;
}

export class DecisionView {
  @ApiProperty({ enum: ApprovalDecision }) decision!: ApprovalDecision;
  @ApiProperty() status!: string;
  @ApiProperty({ type: TallyView }) tally!: TallyView;
}

export class PendingApprovalView extends PromotionView {
  @ApiProperty({ type: TallyView }) tally!: TallyView;
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Check results: kind, status, summary',
  })
  evidence!: Array<{ kind: string; status: string; summary: string }>;
}

export class BreakGlassReviewView {
  @ApiProperty() id!: string;
  @ApiProperty() promotionId!: string;
  @ApiProperty() openedBy!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() openedAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) signedOffBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) signedOffAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) signOffComment!: string | null;
}
