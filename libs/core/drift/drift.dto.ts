import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DRIFT_KINDS } from '../../domain';
import { actorKey } from '../identity/actor';
import { type DriftCheckEntity, type DriftFindingEntity } from './drift.entity';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export class DriftFindingView {
  @ApiProperty({ enum: DRIFT_KINDS }) kind!: string;
  @ApiProperty({ description: 'Target repository' }) repository!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'What Airlock promoted' })
  expectedDigest!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'What the registry holds now' })
  actualDigest!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The promotion that wrote it' })
  promotionId!: string | null;
  @ApiProperty() message!: string;

  static of(f: DriftFindingEntity): DriftFindingView {
    return {
      kind: f.kind,
      repository: f.repository,
      tag: f.tag,
      expectedDigest: f.expectedDigest,
      actualDigest: f.actualDigest,
      promotionId: f.promotionId,
      message: f.message,
    };
  }
}

export class DriftCheckView {
  @ApiProperty() id!: string;
  @ApiProperty() environment!: string;
  @ApiProperty({ enum: ['schedule', 'request'] }) trigger!: string;
  @ApiProperty() requestedBy!: string;
  @ApiProperty({
    enum: ['queued', 'running', 'completed', 'truncated', 'failed'],
    description: '`truncated`: a bound (pages, items, time) stopped it; what it found is kept',
  })
  status!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'repositories, tags, requests, findings, byKind, notStored',
  })
  counts!: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) startedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiPropertyOptional({ type: [DriftFindingView], description: 'Only when the check is finished' })
  findings?: DriftFindingView[];

  static of(c: DriftCheckEntity, environment: string, findings?: DriftFindingEntity[]): DriftCheckView {
    return {
      id: c.id,
      environment,
      trigger: c.trigger,
      requestedBy: actorKey(c.requestedBy),
      status: c.status,
      summary: c.summary,
      counts: c.counts,
      reason: c.reason,
      createdAt: new Date(c.createdAt).toISOString(),
      startedAt: iso(c.startedAt),
      finishedAt: iso(c.finishedAt),
      ...(findings ? { findings: findings.map((f) => DriftFindingView.of(f)) } : {}),
    };
  }
}

export class DriftView {
  @ApiProperty() environment!: string;
  @ApiPropertyOptional({
    type: DriftCheckView,
    nullable: true,
    description: 'The latest finished check, with its findings (null before the first one)',
  })
  latest!: DriftCheckView | null;
  @ApiPropertyOptional({
    type: DriftCheckView,
    nullable: true,
    description: 'A check queued or running now, if any',
  })
  pending!: DriftCheckView | null;
}
