import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ChangeKind, ChangeStatus } from '../../domain';
import { PageQuery } from '../common/page-query';

export class ListChangesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ChangeStatus, description: '`proposed`: what awaits a second admin' })
  @IsOptional()
  @IsEnum(ChangeStatus)
  status?: ChangeStatus;
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
