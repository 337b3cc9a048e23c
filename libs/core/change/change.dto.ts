import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ChangeKind, ChangeStatus } from '../../domain';

export class ListChangesQuery {
  @ApiPropertyOptional({ enum: ChangeStatus, description: '`proposed`: what awaits a second admin' })
  @IsOptional()
  @IsEnum(ChangeStatus)
  status?: ChangeStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(600)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class RejectChangeDto {
  @ApiProperty({ description: 'Why (a withdrawal by the proposer too)' })
  @IsString()
  @MinLength(1, { message: 'comment must say why' })
  @MaxLength(4000)
  comment!: string;
}

/** A proposed change to who is trusted, and what became of it. */
export class ChangeView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ChangeKind }) kind!: ChangeKind;
  @ApiProperty({ enum: ChangeStatus }) status!: ChangeStatus;
  @ApiProperty({ description: 'What the change does, in one line' }) summary!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The request body as proposed (for removals, what is removed)',
  })
  payload!: Record<string, unknown>;
  @ApiProperty({ description: 'The identity key of the proposer' }) proposedBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) decidedBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) decidedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why rejected, withdrawn or failed' })
  comment!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'Once applied: what applying returned (the created binding, environment, …)',
  })
  result!: Record<string, unknown> | null;
}
