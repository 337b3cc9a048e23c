import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DIGEST } from '../../domain';

/** One check as a dry run would have it: nothing of it is stored. */
export class EvaluatedCheckView {
  @ApiProperty() kind!: string;
  @ApiProperty({ enum: ['pass', 'fail', 'error', 'waived'] }) status!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) findings!: unknown[];
  @ApiProperty({ type: [String], description: 'One line per blocking finding' }) blocking!: string[];
  @ApiPropertyOptional({
    enum: ['ran', 'stored'],
    description: 'Past promotions: `stored` reused the result recorded then (same policy section)',
  })
  source?: 'ran' | 'stored';
  @ApiPropertyOptional({ type: [String], description: 'Waivers that let this check or its findings pass' })
  waivers?: string[];
}

export class ApprovalRuleView {
  @ApiProperty() name!: string;
  @ApiProperty() required!: number;
  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    description: 'Approvers must be in one of these groups',
  })
  groups!: string[] | null;
}

/** The approvals a request would wait for, and who could give them. */
export class ApprovalsNeededView {
  @ApiProperty({ description: 'Approvals in all (every rule, distinct people)' }) required!: number;
  @ApiProperty({ type: [ApprovalRuleView] }) rules!: ApprovalRuleView[];
  @ApiProperty({
    type: [String],
    description: 'Role bindings that make someone an approver of the environment (who may decide)',
  })
  approvers!: string[];
  @ApiProperty({ type: [String], description: 'Who separation of duties would refuse' })
  excluded!: string[];
}

export class BreakGlassView {
  @ApiProperty({ description: 'Whether someone holding break_glass could skip the approvals' })
  couldApply!: boolean;
  @ApiProperty() reason!: string;
  @ApiProperty({ type: [String], description: 'Role bindings granting break_glass here' })
  holders!: string[];
}

export class PreCopyConditionView {
  @ApiProperty({ description: 'chain, soak, freeze, …' }) kind!: string;
  @ApiProperty({ enum: ['met', 'waiting', 'blocked'] }) state!: 'met' | 'waiting' | 'blocked';
  @ApiProperty() detail!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) until?: string | null;
}

/** What would happen to a request now: `POST /v1/promotions/evaluate` and proposed-policy evaluations. */
export class PromotionEvaluationView {
  @ApiProperty() environment!: string;
  @ApiProperty({ description: 'The artifact pinned by digest (a tag resolved now)' }) artifact!: string;
  @ApiProperty() digest!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty() policyVersion!: number;
  @ApiProperty() policySha256!: string;
  @ApiProperty({
    enum: ['approved', 'awaiting_approval', 'rejected', 'undetermined'],
    description: '`undetermined`: a check could not run now (a registry down); a request would retry it',
  })
  decision!: 'approved' | 'awaiting_approval' | 'rejected' | 'undetermined';
  @ApiProperty({ type: [String] }) reasons!: string[];
  @ApiProperty({ type: [EvaluatedCheckView] }) checks!: EvaluatedCheckView[];
  @ApiProperty({ type: ApprovalsNeededView }) approvals!: ApprovalsNeededView;
  @ApiProperty({ type: BreakGlassView }) breakGlass!: BreakGlassView;
  @ApiProperty({
    type: [PreCopyConditionView],
    description:
      'Conditions before the copy (environment chain, soak, freeze windows) and whether they would hold',
  })
  conditions!: PreCopyConditionView[];
}

/** A proposed policy version judged on one image, or on the environment's last N promotions. */
export class EvaluatePolicyDto {
  @ApiPropertyOptional({
    description: 'An artifact by digest or tag (registry/repository@sha256:… or :tag)',
    example: 'registry.staging.example.com/team/app@sha256:' + 'a'.repeat(64),
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  artifact?: string;

  @ApiPropertyOptional({
    description: 'A digest promoted into the environment before (its latest promotion names the source)',
    example: 'sha256:' + 'a'.repeat(64),
  })
  @IsOptional()
  @Matches(DIGEST, { message: 'digest must be sha256: followed by 64 lowercase hex characters' })
  digest?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, description: "The environment's last N promotions" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  lastN?: number;
}

export class ReplayedPromotionView {
  @ApiProperty() promotionId!: string;
  @ApiProperty() artifact!: string;
  @ApiProperty({ description: 'What became of it under the policy it was requested under' }) status!: string;
  @ApiProperty() policyVersion!: number;
  @ApiProperty({ enum: ['approved', 'awaiting_approval', 'rejected', 'undetermined'] }) verdict!: string;
  @ApiProperty({ type: [String] }) reasons!: string[];
  @ApiProperty({ type: [EvaluatedCheckView] }) checks!: EvaluatedCheckView[];
}

export class PolicyEvaluationView {
  @ApiProperty() environment!: string;
  @ApiProperty() policyVersion!: number;
  @ApiProperty() policySha256!: string;
  @ApiProperty({ description: 'e.g. "this version would have rejected 3 of the last 50"' }) summary!: string;
  @ApiProperty() evaluated!: number;
  @ApiProperty() wouldReject!: number;
  @ApiProperty({ description: 'Would reject, and were not rejected then' }) newlyRejected!: number;
  @ApiProperty() wouldAwaitApproval!: number;
  @ApiProperty() wouldApprove!: number;
  @ApiProperty() undetermined!: number;
  @ApiProperty({ type: [ReplayedPromotionView] }) promotions!: ReplayedPromotionView[];
  @ApiPropertyOptional({ type: PromotionEvaluationView, description: 'With `artifact` or `digest`' })
  evaluation?: PromotionEvaluationView;
}
