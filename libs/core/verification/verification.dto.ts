import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type VerificationFindingEntity, type VerificationRunEntity } from './verification.entity';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export class VerificationFindingView {
  @ApiProperty({ enum: ['vulnerability', 'license'] }) kind!: string;
  @ApiProperty({ description: 'The advisory id, or the license expression' }) subject!: string;
  @ApiProperty() promotionId!: string;
  @ApiProperty() digest!: string;
  @ApiProperty({ description: 'Target repository' }) repository!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty({ description: 'Package URL' }) package!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) version!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) severity!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) fixedIn!: string | null;
  @ApiProperty({ description: "Whether the environment's active policy would block it now" })
  blocking!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) note!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) detail!: Record<string, unknown>;
  @ApiProperty({ description: 'When a run first found it (open since)' }) foundAt!: string;

  static of(
    f: VerificationFindingEntity & { digest: string; repository: string; tag: string | null },
  ): VerificationFindingView {
    return {
      kind: f.kind,
      subject: f.subject,
      promotionId: f.promotionId,
      digest: f.digest,
      repository: f.repository,
      tag: f.tag,
      package: f.package,
      version: f.version,
      severity: f.severity,
      fixedIn: f.fixedIn,
      blocking: f.blocking,
      note: f.note,
      detail: f.detail,
      foundAt: new Date(f.foundAt).toISOString(),
    };
  }
}

export class VerificationRunView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['advisories', 'policy'] }) trigger!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) importId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) policyVersion!: number | null;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed'] }) status!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) counts!: Record<string, unknown>;
  @ApiPropertyOptional({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) finishedAt!: string | null;

  static of(r: VerificationRunEntity): VerificationRunView {
    return {
      id: r.id,
      trigger: r.trigger,
      importId: r.importId,
      policyVersion: r.policyVersion,
      status: r.status,
      summary: r.summary,
      counts: r.counts,
      reason: r.reason,
      createdAt: new Date(r.createdAt).toISOString(),
      finishedAt: iso(r.finishedAt),
    };
  }
}

export class VerificationView {
  @ApiProperty() environment!: string;
  @ApiProperty({ description: 'Promoted digests with an open vulnerability finding' })
  affectedDigests!: number;
  @ApiProperty({ description: 'Promoted digests the active policy would block now' })
  blockingDigests!: number;
  @ApiProperty({
    type: [VerificationFindingView],
    description: 'Open findings, blocking and most severe first (up to 1000)',
  })
  findings!: VerificationFindingView[];
  @ApiProperty({ type: [VerificationRunView], description: 'The latest runs that concern this environment' })
  runs!: VerificationRunView[];
}
