import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, Matches } from 'class-validator';
import { PromotionStatus } from '../../domain';
import { ENVIRONMENT_NAME } from '../environment/environment.dto';

export class SetUpstreamsDto {
  @ApiProperty({
    type: [String],
    example: ['staging'],
    description: 'Environments a digest must have been promoted into before it may be requested here',
  })
  @IsArray()
  @ArrayMaxSize(10)
  @Matches(ENVIRONMENT_NAME, { each: true, message: 'each upstream must be an environment name' })
  upstreams!: string[];
}

export class OccurrenceView {
  @ApiProperty() start!: string;
  @ApiProperty() end!: string;
}

export class FreezeWindowView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['deny', 'allow'] }) kind!: 'deny' | 'allow';
  @ApiPropertyOptional({ description: 'cron start of each occurrence' }) cron?: string;
  @ApiPropertyOptional() duration?: string;
  @ApiPropertyOptional({ description: 'IANA time zone of the cron pattern' }) timezone?: string;
  @ApiPropertyOptional({ description: 'one-off window: start' }) from?: string;
  @ApiPropertyOptional({ description: 'one-off window: end' }) until?: string;
  @ApiProperty({ type: [OccurrenceView], description: 'the next occurrences not yet ended' })
  next!: OccurrenceView[];
}

export class FreezeWindowsView {
  @ApiProperty() environment!: string;
  @ApiProperty({ description: "the rules' clock" }) now!: string;
  @ApiProperty({ description: 'no promotion starts now' }) frozen!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) frozenUntil!: string | null;
  @ApiProperty({ type: [String], description: 'deny windows holding it, or `allow` when outside them all' })
  frozenBy!: string[];
  @ApiProperty({ type: [FreezeWindowView] }) windows!: FreezeWindowView[];
}

export class DigestPromotionView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: PromotionStatus }) status!: PromotionStatus;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty() target!: string;
  @ApiProperty() requestedAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) promotedAt!: string | null;
  @ApiProperty({ description: 'promoted, and the target tag still holds this digest (Airlock’s records)' })
  current!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) supersededAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) waitingFor!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) waitingUntil!: string | null;
}

export class ArtifactEnvironmentView {
  @ApiProperty() environment!: string;
  @ApiProperty({ type: [String] }) upstreams!: string[];
  @ApiProperty({ type: [DigestPromotionView] }) promotions!: DigestPromotionView[];
}

export class ArtifactView {
  @ApiProperty() digest!: string;
  @ApiProperty({ type: [ArtifactEnvironmentView] }) environments!: ArtifactEnvironmentView[];
}
