import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DIGEST, PromotionKind, REPOSITORY, TAG } from '../../domain';

/** `to`: a digest Airlock promoted to the tag before, or the word `previous`. */
const ROLLBACK_TO = new RegExp(`^(?:previous|${DIGEST.source.slice(1, -1)})$`);

export class RollbackDto {
  @ApiProperty({
    description: "The target repository, as in the environment's target",
    example: 'prod/acme/app',
  })
  @IsString()
  @MaxLength(255)
  @Matches(REPOSITORY, { message: 'repository must be a repository path' })
  repository!: string;

  @ApiProperty({ description: 'The target tag to move back', example: 'stable' })
  @IsString()
  @Matches(TAG, { message: 'tag must be a tag (letters, digits, . _ -, at most 128)' })
  tag!: string;

  @ApiProperty({
    description:
      '`previous` (the digest the tag held before the current one), or a digest Airlock promoted to this tag before',
    example: 'previous',
  })
  @IsString()
  @Matches(ROLLBACK_TO, { message: 'to must be previous or sha256: followed by 64 lowercase hex characters' })
  to!: string;

  @ApiPropertyOptional({ description: 'Why: kept in the metadata, the audit trail and the attestation' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  reason?: string;
}

/** Newest first; the history of one tag is short, so a limit and no cursor. */
export class TagHistoryQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only this target repository' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(REPOSITORY, { message: 'repository must be a repository path' })
  repository?: string;

  @ApiPropertyOptional({ description: 'Only this tag' })
  @IsOptional()
  @Matches(TAG, { message: 'tag must be a tag' })
  tag?: string;
}

export class TagHistoryEntryView {
  @ApiProperty() repository!: string;
  @ApiProperty() tag!: string;
  @ApiProperty() digest!: string;
  @ApiProperty({ description: 'The promotion (or rollback) that wrote the tag' }) promotionId!: string;
  @ApiProperty({ enum: PromotionKind }) kind!: PromotionKind;
  @ApiProperty() requester!: string;
  @ApiProperty({ description: 'When the tag was written' }) promotedAt!: string;
  @ApiProperty({ description: 'The newest entry of its repository and tag: what the tag holds now' })
  current!: boolean;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'A rollback: the promotion it rolled back',
  })
  rollbackFromPromotionId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'A rollback: the promotion it restored' })
  rollbackToPromotionId!: string | null;
}

export class TagHistoryPage {
  @ApiProperty({ type: [TagHistoryEntryView] }) items!: TagHistoryEntryView[];
}
