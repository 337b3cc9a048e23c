import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { DIGEST } from '../../domain';

export class RequestWaiverDto {
  @ApiProperty({ description: 'The check kind it names', example: 'vulnerabilities' })
  @Matches(/^[a-z][a-z0-9-]{0,62}$/, { message: 'check must be a check kind (e.g. vulnerabilities)' })
  check!: string;

  @ApiPropertyOptional({
    description:
      'One finding of that check: an advisory id or alias, a secret fingerprint, a license. Without it, the whole check',
    example: 'CVE-2099-0002',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  finding?: string;

  @ApiPropertyOptional({ description: 'The one image it applies to (or give repositoryPattern)' })
  @IsOptional()
  @Matches(DIGEST, { message: 'digest must be sha256: followed by 64 lowercase hex characters' })
  digest?: string;

  @ApiPropertyOptional({ description: 'The source repositories it applies to (team/app, team/*, team/**)' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  repositoryPattern?: string;

  @ApiProperty({ description: 'Why the exception is acceptable' })
  @IsString()
  @MinLength(1, { message: 'reason must say why' })
  @MaxLength(4000)
  reason!: string;

  @ApiProperty({
    description: 'When it stops applying: no further out than the policy allows (waivers.maxDays)',
  })
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 time' })
  expiresAt!: string;
}

export class RevokeWaiverDto {
  @ApiProperty({ description: 'Why it is revoked' })
  @IsString()
  @MinLength(1, { message: 'reason must say why' })
  @MaxLength(4000)
  reason!: string;
}

export class WaiverView {
  @ApiProperty() id!: string;
  @ApiProperty() environment!: string;
  @ApiProperty() check!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) finding!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) digest!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) repositoryPattern!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ enum: ['requested', 'granted', 'revoked'] }) status!: string;
  @ApiProperty({
    enum: ['requested', 'active', 'expired', 'revoked'],
    description: 'What applies now: only `active` waivers let checks through',
  })
  state!: string;
  @ApiProperty() requestedBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) grantedBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) grantedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) revokedBy!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) revokedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) revokeReason!: string | null;
}

export class WaiverPage {
  @ApiProperty({ type: [WaiverView] }) items!: WaiverView[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: string | null;
}
