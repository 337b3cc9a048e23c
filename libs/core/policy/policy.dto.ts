import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreatePolicyVersionDto {
  @ApiProperty({
    description: 'The policy document',
    type: 'object',
    additionalProperties: true,
    example: { approvals: { required: 2 } },
  })
  @IsObject()
  document!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Why this version exists' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class PolicyVersionView {
  @ApiProperty() id!: string;
  @ApiProperty() environment!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) document!: unknown;
  @ApiProperty({ description: 'sha256 of the RFC 8785 canonical document' }) sha256!: string;
  @ApiProperty() comment!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'Whether new promotions into the environment pin this version' })
  active!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) activatedBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) activatedAt!: string | null;
  @ApiPropertyOptional({
    type: () => [PolicySectionDiffView],
    description:
      'One version read (GET …/policies/:version) of a version that is not active: what activating it would change, per section, against the active version',
  })
  changesFromActive?: PolicySectionDiffView[];
}

export class PolicySectionDiffView {
  @ApiProperty({ example: 'scans.vulnerabilities' }) section!: string;
  @ApiProperty({ enum: ['added', 'removed', 'changed'] }) change!: 'added' | 'removed' | 'changed';
  @ApiProperty({
    type: [String],
    description: 'One line per difference: `path: before → after`, `path: added …`, `path: removed …`',
    example: ['scans.vulnerabilities.maxSeverity: "high" → "medium"'],
  })
  lines!: string[];
}

/** What changed between two policy versions of an environment, per section. */
export class PolicyDiffView {
  @ApiProperty() environment!: string;
  @ApiProperty() from!: number;
  @ApiProperty() to!: number;
  @ApiProperty() fromSha256!: string;
  @ApiProperty() toSha256!: string;
  @ApiProperty({ description: 'Whether version `to` is active now' }) toActive!: boolean;
  @ApiProperty({ type: [PolicySectionDiffView], description: 'Changed sections only; empty: the same rules' })
  sections!: PolicySectionDiffView[];
}
