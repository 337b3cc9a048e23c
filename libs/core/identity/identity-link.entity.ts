import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Actor } from './actor';

/**
 * Ties an identity to a person, so that one person with several identities (an IdP account, a
 * GitHub handle as CI claims name it) counts once and cannot approve their own change under
 * another name. `identity` is an identity key (`subject@issuer`) or `handle:<name>` for the
 * actor/author names CI tokens and provenance carry.
 */
@Entity('identity_link')
@Index('ix_identity_link_person', ['person'])
export class IdentityLinkEntity {
  @PrimaryColumn('text')
  identity!: string;

  @Column('text')
  person!: string;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
