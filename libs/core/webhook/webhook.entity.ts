import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { EventFacts } from '../../domain';
import type { Actor } from '../identity/actor';

/** How a subscription's deliveries are shaped. */
export enum WebhookFormat {
  /** The versioned JSON event (`type`, `version`, `timestamp`, `data`). */
  Standard = 'standard',
  /** A Slack-compatible incoming-webhook message: a line, the reasons, a link. */
  Chat = 'chat',
}

/**
 * A receiver of signed webhooks: its URL (an allowed host), the event types and optionally the
 * environments it wants. The secret signs every delivery (Standard Webhooks: `whsec_` + base64);
 * after a rotation the previous one keeps signing too until its grace period ends.
 */
@Entity('webhook_subscription')
export class WebhookSubscriptionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  url!: string;

  @Column('text', { array: true })
  eventTypes!: string[];

  /** Environment names; empty: every environment (and events that belong to none). */
  @Column('text', { array: true, default: () => "'{}'" })
  environments!: string[];

  @Column('text')
  format!: WebhookFormat;

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('text')
  secret!: string;

  @Column('text', { nullable: true })
  previousSecret!: string | null;

  @Column('timestamptz', { nullable: true })
  previousSecretExpiresAt!: Date | null;

  @Column('boolean', { default: true })
  enabled!: boolean;

  /** Why it was disabled: by whom, or the failures that disabled it. */
  @Column('text', { nullable: true })
  disabledReason!: string | null;

  @Column('timestamptz', { nullable: true })
  disabledAt!: Date | null;

  /** The first failed attempt since the last success: the clock of automatic disabling. */
  @Column('timestamptz', { nullable: true })
  failingSince!: Date | null;

  @Column('jsonb')
  createdBy!: Actor;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}

/**
 * Something that happened, written in the statement or transaction that made it happen (the
 * transactional outbox): a rolled-back change never wrote one. Only written while some enabled
 * subscription wants its type.
 */
@Entity('webhook_event')
export class WebhookEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text')
  type!: string;

  /** The environment's name, when the event belongs to one. */
  @Column('text', { nullable: true })
  environment!: string | null;

  @Column('text')
  subjectType!: string;

  @Column('text')
  subjectId!: string;

  @Column('jsonb')
  facts!: EventFacts;

  @CreateDateColumn({ type: 'timestamptz' })
  occurredAt!: Date;
}

export enum WebhookDeliveryStatus {
  Pending = 'pending',
  Delivered = 'delivered',
  /** Retried for WEBHOOK_RETRY_FOR_MS without success, or its subscription was disabled. */
  Failed = 'failed',
}

/** The `webhook-id` of a delivery: the same on every attempt and re-send, so receivers de-duplicate. */
export const webhookId = (deliveryId: string): string => `msg_${deliveryId}`;

/** One event for one subscription. Its id is the `webhook-id`: the same on every attempt. */
@Entity('webhook_delivery')
@Index('ix_webhook_delivery_subscription', ['subscriptionId', 'createdAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('bigint')
  eventId!: string;

  @ManyToOne(() => WebhookEventEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'fk_webhook_delivery_event' })
  event?: WebhookEventEntity;

  @Column('uuid')
  subscriptionId!: string;

  @ManyToOne(() => WebhookSubscriptionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'subscription_id', foreignKeyConstraintName: 'fk_webhook_delivery_subscription' })
  subscription?: WebhookSubscriptionEntity;

  @Column('text', { default: WebhookDeliveryStatus.Pending })
  status!: WebhookDeliveryStatus;

  @Column('integer', { default: 0 })
  attempts!: number;

  /** When the current round of attempts began (reset by a re-send): the retry horizon counts from it. */
  @Column('timestamptz', { nullable: true })
  firstAttemptAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  deliveredAt!: Date | null;

  @Column('integer', { default: 0 })
  resends!: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}

/** Every attempt, with what the receiver answered (bounded). */
@Entity('webhook_attempt')
@Index('ix_webhook_attempt_delivery', ['deliveryId', 'id'])
export class WebhookAttemptEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('uuid')
  deliveryId!: string;

  @ManyToOne(() => WebhookDeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id', foreignKeyConstraintName: 'fk_webhook_attempt_delivery' })
  delivery?: WebhookDeliveryEntity;

  @Column('timestamptz')
  attemptedAt!: Date;

  /** delivered, http_error, redirect, timeout, network_error, refused (a host no longer allowed). */
  @Column('text')
  outcome!: string;

  @Column('integer', { nullable: true })
  statusCode!: number | null;

  @Column('integer')
  latencyMs!: number;

  /** The first KiB of the response body, or the error. */
  @Column('text', { nullable: true })
  excerpt!: string | null;
}
