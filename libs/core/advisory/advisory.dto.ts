import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { actorKey } from '../identity/actor';
import { type AdvisoryEntity, type AdvisoryImportEntity } from './advisory.entity';

export class AdvisoryImportView {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Import number: scans record the one they matched against' }) seq!: number;
  @ApiProperty({ description: 'sha256 of the uploaded bytes' }) sha256!: string;
  @ApiProperty() source!: string;
  @ApiProperty({ description: 'OSV documents read' }) documents!: number;
  @ApiProperty({ description: 'Advisories stored for the first time' }) added!: number;
  @ApiProperty({ description: 'Advisories replaced by a newer version' }) updated!: number;
  @ApiProperty({ description: 'Advisories already stored with the same or a newer version' })
  unchanged!: number;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;

  static of(r: AdvisoryImportEntity): AdvisoryImportView {
    return {
      id: r.id,
      seq: Number(r.seq),
      sha256: r.sha256,
      source: r.source,
      documents: r.documents,
      added: r.added,
      updated: r.updated,
      unchanged: r.unchanged,
      createdBy: actorKey(r.createdBy),
      createdAt: new Date(r.createdAt).toISOString(),
    };
  }
}

export class AdvisoryView {
  @ApiProperty() id!: string;
  @ApiProperty() modified!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) withdrawn!: string | null;
  @ApiProperty({ type: [String] }) aliases!: string[];
  @ApiProperty() summary!: string;
  @ApiProperty({ enum: ['none', 'low', 'medium', 'high', 'critical', 'unknown'] }) severity!: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) score!: number | null;
  @ApiPropertyOptional({ nullable: true, type: String }) vector!: string | null;
  @ApiProperty({ description: 'How many imports changed it' }) revision!: number;
  @ApiProperty() importId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The OSV document' })
  document!: Record<string, unknown>;

  static of(r: AdvisoryEntity): AdvisoryView {
    return {
      id: r.id,
      modified: r.modified.toISOString(),
      withdrawn: r.withdrawn ? r.withdrawn.toISOString() : null,
      aliases: r.aliases,
      summary: r.summary,
      severity: r.severity,
      score: r.score,
      vector: r.vector,
      revision: r.revision,
      importId: r.importId,
      document: r.document,
    };
  }
}
