// Response shapes of routes whose services return plain domain objects, for the OpenAPI document
// (and so for the generated client): the classes only describe, the services' types are the truth.
import { type Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** `{ items, nextCursor }` of a view: pass `nextCursor` to get the next page, null on the last. */
export function pageOf<T>(item: Type<T>, name: string): Type<unknown> {
  class Page {
    @ApiProperty({ type: [item] }) items!: T[];
    @ApiPropertyOptional({
      nullable: true,
      type: String,
      description: 'Pass as `cursor` for the next page; null on the last page',
    })
    nextCursor!: string | null;
  }
  Object.defineProperty(Page, 'name', { value: name });
  return Page;
}

/** `{ items }` of a view: a short list returned whole. */
export function listOf<T>(item: Type<T>, name: string): Type<unknown> {
  class List {
    @ApiProperty({ type: [item] }) items!: T[];
  }
  Object.defineProperty(List, 'name', { value: name });
  return List;
}

export class AuditActorView {
  @ApiProperty({ enum: ['ci', 'human', 'system'] }) kind!: string;
  @ApiProperty({ example: 'https://token.actions.githubusercontent.com' }) issuer!: string;
  @ApiProperty({ example: 'repo:acme/app:ref:refs/heads/main' }) subject!: string;
}

export class AuditEventView {
  @ApiProperty({ description: 'Position in the chain (a decimal string: it outgrows 2^53)', example: '42' })
  seq!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ type: AuditActorView }) actor!: AuditActorView;
  @ApiProperty({ example: 'promotion.requested' }) action!: string;
  @ApiProperty({ example: 'promotion' }) subjectType!: string;
  @ApiProperty() subjectId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ description: 'sha256 of the previous event (zeros for the first)' }) prevHash!: string;
  @ApiProperty({ description: 'sha256 over this event and prevHash' }) hash!: string;
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEventView] }) items!: AuditEventView[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Pass as `cursor` for the next page' })
  nextCursor!: string | null;
  @ApiProperty({ description: 'Events recorded but not yet sealed into the chain (not listed yet)' })
  pending!: number;
}

export class AuditCheckpointView {
  @ApiProperty({ example: '42' }) seq!: string;
  @ApiProperty({ description: "The chain's hash at seq" }) hash!: string;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
  @ApiProperty({ description: "Id of Airlock's key that signed it (GET /v1/keys)" }) keyId!: string;
  @ApiProperty({ description: 'base64 DER ECDSA P-256/SHA-256 signature' }) signature!: string;
}

export class AuditCheckpointsView {
  @ApiProperty({ description: "PEM of Airlock's current public key" }) publicKey!: string;
  @ApiProperty({ type: [AuditCheckpointView] }) items!: AuditCheckpointView[];
}

export class IdentityLinkView {
  @ApiProperty({ example: 'alice@https://login.example.com' }) identity!: string;
  @ApiProperty({ example: 'alice' }) person!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ChainPointView {
  @ApiProperty({ example: '42' }) seq!: string;
  @ApiProperty() hash!: string;
}

export class AuditVerificationReportView {
  @ApiProperty({ description: 'true when every link and checkpoint holds' }) ok!: boolean;
  @ApiProperty({ description: 'Links walked and found sound' }) checked!: number;
  @ApiProperty({ type: ChainPointView, description: 'The last sound link reached' }) head!: ChainPointView;
  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'The first link whose hash or back-pointer does not hold: seq, problem, expected, found',
  })
  firstBrokenLink!: Record<string, unknown> | null;
  @ApiProperty() checkpointsChecked!: number;
  @ApiProperty() checkpointsMatched!: number;
  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'The first signed checkpoint the chain no longer matches (history rewritten and re-chained)',
  })
  firstCheckpointMismatch!: Record<string, unknown> | null;
  @ApiPropertyOptional({ description: 'Events recorded but not yet sealed: not covered' }) pending?: number;
}

export class VerificationProgressView {
  @ApiProperty() checked!: number;
  @ApiProperty() total!: number;
}

export class AuditVerificationResource {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'cancelled', 'errored'] }) status!: string;
  @ApiProperty({ enum: ['checkpoint', 'genesis'], description: 'What was asked for' })
  requestedStart!: string;
  @ApiProperty({ enum: ['checkpoint', 'genesis'], description: 'Where the walk starts' }) start!: string;
  @ApiProperty({ description: 'The walk covers the links after fromSeq…' }) fromSeq!: string;
  @ApiProperty({ description: '…up to toSeq (the head when it was asked for)' }) toSeq!: string;
  @ApiPropertyOptional({
    nullable: true,
    type: AuditCheckpointView,
    description: 'The proven checkpoint it starts from',
  })
  anchor!: AuditCheckpointView | null;
  @ApiProperty() pendingAtStart!: number;
  @ApiProperty({ type: VerificationProgressView }) progress!: VerificationProgressView;
  @ApiPropertyOptional({ nullable: true, type: Boolean }) ok!: boolean | null;
  @ApiPropertyOptional({ nullable: true, type: AuditVerificationReportView })
  report!: AuditVerificationReportView | null;
  @ApiPropertyOptional({
    nullable: true,
    type: ChainPointView,
    description: 'Where the next incremental walk starts',
  })
  provenCheckpoint!: ChainPointView | null;
  @ApiPropertyOptional({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() requestedBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) startedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) durationMs!: number | null;
}

export class AuditVerificationList {
  @ApiProperty({ type: [AuditVerificationResource] }) items!: AuditVerificationResource[];
}
