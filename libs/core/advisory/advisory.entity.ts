import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Actor } from '../identity/actor';

/**
 * One upload of OSV advisories. Uploads are numbered: a scan records the number it matched
 * against, so its result can be explained later. The same bytes uploaded again are the same import.
 */
@Entity('advisory_import')
@Index('uq_advisory_import_sha256', ['sha256'], { unique: true })
@Index('uq_advisory_import_seq', ['seq'], { unique: true })
export class AdvisoryImportEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int')
  seq!: number;

  /** sha256 of the uploaded bytes. */
  @Column('char', { length: 64 })
  sha256!: string;

  /** `application/json` or `application/zip`, and the file name when one was given. */
  @Column('text')
  source!: string;

  @Column('int')
  documents!: number;

  @Column('int')
  added!: number;

  @Column('int')
  updated!: number;

  /** Already stored with the same or a newer `modified`. */
  @Column('int')
  unchanged!: number;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}

/** The newest version of one OSV advisory, with its rating worked out once at import. */
@Entity('advisory')
// Continuous verification matches only the advisories an import changed: those naming it.
@Index('ix_advisory_import', ['importId'])
export class AdvisoryEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('timestamptz')
  modified!: Date;

  @Column('timestamptz', { nullable: true })
  withdrawn!: Date | null;

  @Column('text', { array: true, default: () => "'{}'" })
  aliases!: string[];

  @Column('text', { default: '' })
  summary!: string;

  /** none, low, medium, high, critical, or unknown. */
  @Column('text')
  severity!: string;

  @Column('real', { nullable: true })
  score!: number | null;

  @Column('text', { nullable: true })
  vector!: string | null;

  @Column('jsonb')
  document!: Record<string, unknown>;

  /** How many imports changed it. */
  @Column('int', { default: 1 })
  revision!: number;

  @Column('uuid')
  importId!: string;

  @ManyToOne(() => AdvisoryImportEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'import_id', foreignKeyConstraintName: 'fk_advisory_import' })
  import?: AdvisoryImportEntity;
}

/**
 * The lookup table for matching: one row per advisory and package it affects, holding that
 * package's `affected` entries, so a scan reads only the advisories of the SBOM's packages.
 */
@Entity('advisory_package')
@Index('ix_advisory_package_ecosystem_name', ['ecosystem', 'name'])
export class AdvisoryPackageEntity {
  @PrimaryColumn('text')
  advisoryId!: string;

  /** OSV ecosystem without the release: `Debian`, not `Debian:12`. */
  @PrimaryColumn('text')
  ecosystem!: string;

  /** `12` for `Debian:12`; '' when the ecosystem has no releases. */
  @PrimaryColumn('text')
  release!: string;

  /** Normalised as the ecosystem compares names (PyPI per PEP 503). */
  @PrimaryColumn('text')
  name!: string;

  @ManyToOne(() => AdvisoryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'advisory_id', foreignKeyConstraintName: 'fk_advisory_package_advisory' })
  advisory?: AdvisoryEntity;

  @Column('jsonb')
  affected!: unknown[];
}
