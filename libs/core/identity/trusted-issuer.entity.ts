import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { Actor } from './actor';

export enum CallerKind {
  /** CI workloads: GitHub Actions- or GitLab-style ID tokens carrying repository/ref/sha claims. */
  Ci = 'ci',
  /** People, with tokens from the organisation's IdP carrying group claims. */
  Human = 'human',
}

/** An OIDC issuer whose tokens Airlock accepts, for one kind of caller and one audience. */
@Entity('trusted_issuer')
@Index('uq_trusted_issuer_issuer', ['issuer'], { unique: true })
export class TrustedIssuerEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  issuer!: string;

  @Column('enum', { enum: CallerKind, enumName: 'caller_kind' })
  kind!: CallerKind;

  /** The `aud` a token must carry, exactly. */
  @Column('text')
  audience!: string;

  /** The claim that lists a person's groups (human issuers). */
  @Column('text', { default: 'groups' })
  groupsClaim!: string;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
