import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager } from 'typeorm';
import { eventOfAction, type EventFacts, type StoredEvent, type WebhookEventType } from '../../domain';
import { type Actor } from '../identity/actor';
import { deliveryJobSql, webhookEventCtes } from './webhook-event-sql';
import {
  type WebhookAttemptEntity,
  WebhookDeliveryEntity,
  WebhookDeliveryStatus,
  type WebhookFormat,
  WebhookSubscriptionEntity,
} from './webhook.entity';

/** An event a service writes in its own transaction (one no promotion transition produces). */
export interface NewWebhookEvent {
  type: WebhookEventType;
  environment: string | null;
  subjectType: string;
  subjectId: string;
  facts: EventFacts;
}

export interface NewSubscription {
  url: string;
  eventTypes: string[];
  environments: string[];
  format: WebhookFormat;
  description: string | null;
  secret: string;
  createdBy: Actor;
}

/** What one delivery attempt needs: the delivery, its subscription and its event. */
export interface DeliveryWork {
  delivery: WebhookDeliveryEntity;
  subscription: WebhookSubscriptionEntity;
  event: StoredEvent;
}

export interface NewAttempt {
  deliveryId: string;
  attemptedAt: Date;
  outcome: string;
  statusCode: number | null;
  latencyMs: number;
  excerpt: string | null;
}

/** Rows of a query: TypeORM answers UPDATE … RETURNING with [rows, count], SELECT with rows. */
function returned<T>(result: unknown): T[] {
  const pair = result as [T[], number];
  return (
    Array.isArray(pair) && pair.length === 2 && Array.isArray(pair[0]) && typeof pair[1] === 'number'
      ? pair[0]
      : result
  ) as T[];
}

@Injectable()
export class WebhookRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** One transaction for a service's several statements (the database stays behind this door). */
  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Writes an event inside the caller's transaction, with a delivery and an outbox row for every
   * enabled subscription that wants it. Returns how many deliveries it queued.
   */
  /**
   * The webhook event an audit event's action produces, if any (drift found, verification
   * affected), written in the transaction that writes the audit event. `environment` is the
   * environment it concerns (those events' subject).
   */
  async recordAudited(
    record: {
      actor: EventFacts['actor'];
      action: string;
      subjectType: string;
      subjectId: string;
      details?: Record<string, unknown>;
    },
    environment: string | null,
    manager: EntityManager,
  ): Promise<void> {
    const type = eventOfAction(record.action);
    if (!type) return;
    await this.recordEvent(
      {
        type,
        environment,
        subjectType: record.subjectType,
        subjectId: record.subjectId,
        facts: { actor: record.actor, details: { ...(record.details ?? {}), environment } },
      },
      manager,
    );
  }

  async recordEvent(e: NewWebhookEvent, manager: EntityManager = this.db.manager): Promise<number> {
    const rows: Array<{ n: string }> = await manager.query(
      `WITH src AS (SELECT $1::text AS type, $2::text AS environment, $3::text AS subject_type,
                           $4::text AS subject_id, $5::jsonb AS facts)${webhookEventCtes({
                             from: 'src',
                             type: 'src.type',
                             environment: 'src.environment',
                             subjectType: 'src.subject_type',
                             subjectId: 'src.subject_id',
                             facts: 'src.facts',
                           })}
       SELECT count(*) AS n FROM wh_dl`,
      [e.type, e.environment, e.subjectType, e.subjectId, JSON.stringify(e.facts)],
    );
    return Number(rows[0]?.n ?? 0);
  }

  create(s: NewSubscription, manager: EntityManager = this.db.manager): Promise<WebhookSubscriptionEntity> {
    const repo = manager.getRepository(WebhookSubscriptionEntity);
    return repo.save(repo.create({ ...s, enabled: true }));
  }

  get(id: string, manager: EntityManager = this.db.manager): Promise<WebhookSubscriptionEntity | null> {
    return manager.getRepository(WebhookSubscriptionEntity).findOne({ where: { id } });
  }

  /** The subscription, locked for an update in `manager`'s transaction. */
  lock(id: string, manager: EntityManager): Promise<WebhookSubscriptionEntity | null> {
    return manager
      .getRepository(WebhookSubscriptionEntity)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  list(): Promise<WebhookSubscriptionEntity[]> {
    return this.db.getRepository(WebhookSubscriptionEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async update(
    id: string,
    patch: Partial<WebhookSubscriptionEntity>,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    await manager.getRepository(WebhookSubscriptionEntity).update({ id }, patch);
  }

  async delete(id: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(WebhookSubscriptionEntity).delete({ id });
  }

  /** A page of a subscription's deliveries, newest first, each with its attempts (oldest first). */
  async deliveries(
    subscriptionId: string,
    limit: number,
    before?: { createdAt: string; id: string },
  ): Promise<Array<WebhookDeliveryEntity & { eventType: string; attemptList: WebhookAttemptEntity[] }>> {
    const rows: Array<Record<string, unknown>> = await this.db.query(
      `SELECT d.id, d.event_id AS "eventId", d.subscription_id AS "subscriptionId", d.status, d.attempts,
              d.first_attempt_at AS "firstAttemptAt", d.delivered_at AS "deliveredAt", d.resends,
              d.created_at AS "createdAt", e.type AS "eventType",
              COALESCE((SELECT jsonb_agg(jsonb_build_object('attemptedAt', a.attempted_at, 'outcome', a.outcome,
                  'statusCode', a.status_code, 'latencyMs', a.latency_ms, 'excerpt', a.excerpt) ORDER BY a.id)
                FROM webhook_attempt a WHERE a.delivery_id = d.id), '[]'::jsonb) AS "attemptList"
       FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id
       WHERE d.subscription_id = $1
         AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
      [subscriptionId, limit, before?.createdAt ?? null, before?.id ?? null],
    );
    return rows as unknown as Array<
      WebhookDeliveryEntity & { eventType: string; attemptList: WebhookAttemptEntity[] }
    >;
  }

  /**
   * Starts an attempt of a pending delivery whose subscription is enabled, in one statement: counts
   * it, starts the round's retry clock on its first attempt, and returns the delivery with its
   * subscription and event. Null when the delivery is gone, no longer pending, or its subscription
   * is disabled (see `abandonIfDisabled`).
   */
  async begin(deliveryId: string, at: Date): Promise<DeliveryWork | null> {
    const rows: Array<{
      attempts: number;
      first_attempt_at: Date;
      subscription: Record<string, unknown>;
      event_id: string;
      type: WebhookEventType;
      occurred_at: Date;
      facts: EventFacts;
    }> = await this.db.query(
      `WITH d AS (
         UPDATE webhook_delivery d SET attempts = d.attempts + 1, first_attempt_at = COALESCE(d.first_attempt_at, $2)
         FROM webhook_subscription s
         WHERE d.id = $1 AND d.status = $3 AND s.id = d.subscription_id AND s.enabled
         RETURNING d.attempts, d.first_attempt_at, d.subscription_id, d.event_id
       )
       SELECT d.attempts, d.first_attempt_at, e.id AS event_id, e.type, e.occurred_at, e.facts,
              jsonb_build_object('id', s.id, 'url', s.url, 'format', s.format, 'secret', s.secret,
                'previousSecret', s.previous_secret, 'previousSecretExpiresAt', s.previous_secret_expires_at,
                'enabled', s.enabled) AS subscription
       FROM d JOIN webhook_subscription s ON s.id = d.subscription_id JOIN webhook_event e ON e.id = d.event_id`,
      [deliveryId, at, WebhookDeliveryStatus.Pending],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    const delivery = new WebhookDeliveryEntity();
    delivery.id = deliveryId;
    delivery.attempts = r.attempts;
    delivery.firstAttemptAt = new Date(r.first_attempt_at);
    delivery.status = WebhookDeliveryStatus.Pending;
    const sub = r.subscription;
    const subscription = Object.assign(new WebhookSubscriptionEntity(), {
      ...sub,
      previousSecretExpiresAt: sub.previousSecretExpiresAt
        ? new Date(sub.previousSecretExpiresAt as string)
        : null,
    });
    return {
      delivery,
      subscription,
      event: { id: r.event_id, type: r.type, occurredAt: new Date(r.occurred_at), facts: r.facts },
    };
  }

  /** Ends a pending delivery whose subscription is disabled; returns whether it did. */
  async abandonIfDisabled(deliveryId: string): Promise<boolean> {
    const rows = returned<{ id: string }>(
      await this.db.query(
        `UPDATE webhook_delivery d SET status = $2 FROM webhook_subscription s
         WHERE d.id = $1 AND d.status = $3 AND s.id = d.subscription_id AND NOT s.enabled RETURNING d.id`,
        [deliveryId, WebhookDeliveryStatus.Failed, WebhookDeliveryStatus.Pending],
      ),
    );
    return rows.length > 0;
  }

  /** Records an attempt and its consequence for the delivery and the subscription, in one transaction. */
  async finishAttempt(
    a: NewAttempt,
    subscriptionId: string,
    result:
      { delivered: true } | { delivered: false; giveUp: boolean; disableAfterMs: number; reason: string },
  ): Promise<{ disabled: boolean }> {
    if (result.delivered) {
      // One statement: the attempt, the delivery and the subscription's failure clock.
      await this.db.query(
        `WITH a AS (
           INSERT INTO webhook_attempt (delivery_id, attempted_at, outcome, status_code, latency_ms, excerpt)
           VALUES ($1, $2, $3, $4, $5, $6)
         ), d AS (
           UPDATE webhook_delivery SET status = $7, delivered_at = $2 WHERE id = $1
         )
         UPDATE webhook_subscription SET failing_since = NULL WHERE id = $8 AND failing_since IS NOT NULL`,
        [
          a.deliveryId,
          a.attemptedAt,
          a.outcome,
          a.statusCode,
          a.latencyMs,
          a.excerpt,
          WebhookDeliveryStatus.Delivered,
          subscriptionId,
        ],
      );
      return { disabled: false };
    }
    return this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO webhook_attempt (delivery_id, attempted_at, outcome, status_code, latency_ms, excerpt)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [a.deliveryId, a.attemptedAt, a.outcome, a.statusCode, a.latencyMs, a.excerpt],
      );
      if (result.giveUp) {
        await m.query(`UPDATE webhook_delivery SET status = $2 WHERE id = $1`, [
          a.deliveryId,
          WebhookDeliveryStatus.Failed,
        ]);
      }
      // The failure clock starts at the first failure since the last success; past the limit the
      // subscription is disabled, saying why.
      // Two statements: an UPDATE in a WITH and the main UPDATE cannot both change one row.
      const [failing] = returned<{ failing_since: Date; enabled: boolean }>(
        await m.query(
          `UPDATE webhook_subscription SET failing_since = COALESCE(failing_since, $2)
           WHERE id = $1 RETURNING failing_since, enabled`,
          [subscriptionId, a.attemptedAt],
        ),
      );
      if (!failing?.enabled) return { disabled: false };
      const since = new Date(failing.failing_since);
      if (a.attemptedAt.getTime() - since.getTime() < result.disableAfterMs) return { disabled: false };
      await m.query(
        `UPDATE webhook_subscription SET enabled = false, disabled_at = $2, updated_at = now(), disabled_reason = $3
         WHERE id = $1`,
        [subscriptionId, a.attemptedAt, `deliveries failing since ${since.toISOString()}: ${result.reason}`],
      );
      return { disabled: true };
    });
  }

  /** Ends a delivery without sending (its subscription is disabled or gone). */
  async abandonDelivery(deliveryId: string): Promise<void> {
    await this.db.query(`UPDATE webhook_delivery SET status = $2 WHERE id = $1 AND status = $3`, [
      deliveryId,
      WebhookDeliveryStatus.Failed,
      WebhookDeliveryStatus.Pending,
    ]);
  }

  /**
   * Pending deliveries untouched (created, or last attempted) for `olderThanMs` whose job is not
   * waiting in the outbox: their job may have been lost with Redis's data.
   */
  async staleDeliveries(olderThanMs: number, limit: number): Promise<Array<{ id: string; resends: number }>> {
    return this.db.query(
      `SELECT d.id, d.resends FROM webhook_delivery d
       WHERE d.status = $1 AND d.created_at < now() - make_interval(secs => $2::double precision / 1000)
         AND COALESCE((SELECT max(a.attempted_at) FROM webhook_attempt a WHERE a.delivery_id = d.id), d.created_at)
             < now() - make_interval(secs => $2::double precision / 1000)
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.payload->>'deliveryId' = d.id::text)
       ORDER BY d.created_at LIMIT $3`,
      [WebhookDeliveryStatus.Pending, olderThanMs, limit],
    );
  }

  /**
   * Deletes up to `limit` finished deliveries (their attempts with them) older than `days`, then
   * events older than that which no delivery refers to any more. Returns the deliveries deleted.
   */
  async prune(days: number, limit: number): Promise<number> {
    const rows: Array<{ n: number }> = await this.db.query(
      `WITH gone AS (
         DELETE FROM webhook_delivery WHERE id IN (
           SELECT id FROM webhook_delivery
           WHERE status <> $3 AND created_at < now() - make_interval(days => $1::int)
           ORDER BY created_at LIMIT $2)
         RETURNING id, event_id
       ), events AS (
         DELETE FROM webhook_event e WHERE e.id IN (SELECT DISTINCT event_id FROM gone)
           AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_id = e.id AND d.id NOT IN (SELECT id FROM gone))
       )
       SELECT count(*)::int AS n FROM gone`,
      [days, limit, WebhookDeliveryStatus.Pending],
    );
    return rows[0]?.n ?? 0;
  }

  /** Puts a pending delivery's job into the outbox again under `jobId` (a duplicate id is ignored). */
  async requeueDelivery(deliveryId: string, jobId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO outbox (job_name, job_id, payload)
       SELECT 'webhook.deliver', $2, jsonb_build_object('deliveryId', d.id)
       FROM webhook_delivery d WHERE d.id = $1 AND d.status = $3
       ON CONFLICT (job_id) DO NOTHING`,
      [deliveryId, jobId, WebhookDeliveryStatus.Pending],
    );
  }

  /**
   * Queues a delivery again (same delivery, so the same webhook-id): a new round of attempts
   * through the outbox. Returns false when the delivery is not the subscription's.
   */
  async resend(subscriptionId: string, deliveryId: string, manager: EntityManager): Promise<boolean> {
    const rows: Array<{ id: string; resends: number }> = await manager.query(
      `WITH d AS (
         UPDATE webhook_delivery SET status = $3, resends = resends + 1, first_attempt_at = NULL
         WHERE id = $1 AND subscription_id = $2 RETURNING id, resends
       ), job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT 'webhook.deliver', ${deliveryJobSql('d.id::text', 'd.resends')}, jsonb_build_object('deliveryId', d.id)
         FROM d
       )
       SELECT id, resends FROM d`,
      [deliveryId, subscriptionId, WebhookDeliveryStatus.Pending],
    );
    return rows.length === 1;
  }
}
