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
}
