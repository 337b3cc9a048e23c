import { Injectable, Logger } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { AirlockConfig } from '../../config';
import { chatMessage, Failure, type StoredEvent, webhookPayload } from '../../domain';
import { Clock } from '../common/clock';
import { MetricsService } from '../ops/metrics.service';
import { WebhookClient } from './webhook.client';
import { WebhookFormat, type WebhookSubscriptionEntity, webhookId } from './webhook.entity';
import { WebhookRepository } from './webhook.repository';

/**
 * The signature header: `v1,<sig>` with the current secret and, during a rotation's grace period,
 * a second one with the previous secret (space-separated, as Standard Webhooks allows).
 */
export function signatureHeader(
  s: Pick<WebhookSubscriptionEntity, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  id: string,
  timestamp: Date,
  body: string,
  now: number,
): string {
  const sigs = [new Webhook(s.secret).sign(id, timestamp, body)];
  if (s.previousSecret && s.previousSecretExpiresAt && s.previousSecretExpiresAt.getTime() > now) {
    sigs.push(new Webhook(s.previousSecret).sign(id, timestamp, body));
  }
  return sigs.join(' ');
}

/**
 * Sends one delivery (the worker's `webhook.deliver` job). Safe to run twice: a delivery that is
 * no longer pending is left alone. A failed attempt is recorded and thrown as transient, so
 * BullMQ retries it with the webhook backoff, until WEBHOOK_RETRY_FOR_MS has passed since the
 * round's first attempt; a subscription failing for WEBHOOK_DISABLE_AFTER_MS is disabled.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger(WebhookDeliveryService.name);

  constructor(
    private readonly repo: WebhookRepository,
    private readonly client: WebhookClient,
    private readonly config: AirlockConfig,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /** Links back to the API in payloads. */
  link = (path: string): string => `${(this.config.AIRLOCK_PUBLIC_URL ?? '').replace(/\/$/, '')}${path}`;

  /** The body a subscription receives for an event. */
  body(format: WebhookFormat, event: StoredEvent): string {
    return JSON.stringify(
      format === WebhookFormat.Chat ? chatMessage(event, this.link) : webhookPayload(event, this.link),
    );
  }

  async deliver(deliveryId: string): Promise<void> {
    const now = this.clock.now();
    const work = await this.repo.begin(deliveryId, new Date(now));
    if (!work) {
      // Gone, done already, or its subscription is disabled: then the delivery ends here.
      if (await this.repo.abandonIfDisabled(deliveryId)) {
        this.metrics.webhookDeliveries.inc({ outcome: 'skipped', format: 'any' });
      }
      return;
    }
    const { subscription: sub, event, delivery: started } = work;
    const body = this.body(sub.format, event);
    const id = webhookId(deliveryId);
    // The signed timestamp is the real time of sending: receivers compare it with their clocks.
    const timestamp = new Date();
    const result = await this.client.send({
      url: sub.url,
      body,
      timeoutMs: this.config.WEBHOOK_TIMEOUT_MS,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Airlock-Webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signatureHeader(sub, id, timestamp, body, now),
      },
    });
    this.metrics.webhookDeliveries.inc({ outcome: result.outcome, format: sub.format });
    const attempt = {
      deliveryId,
      attemptedAt: new Date(now),
      outcome: result.outcome,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      excerpt: result.excerpt,
    };
    if (result.outcome === 'delivered') {
      await this.repo.finishAttempt(attempt, sub.id, { delivered: true });
      this.metrics.webhookLag.observe((Date.now() - event.occurredAt.getTime()) / 1000);
      return;
    }
    const firstAt = started.firstAttemptAt?.getTime() ?? now;
    const giveUp = now - firstAt >= this.config.WEBHOOK_RETRY_FOR_MS;
    const reason = `${result.outcome}${result.statusCode ? ` ${result.statusCode}` : ''}${
      result.excerpt ? `: ${result.excerpt.slice(0, 200)}` : ''
    }`;
    const { disabled } = await this.repo.finishAttempt(attempt, sub.id, {
      delivered: false,
      giveUp,
      disableAfterMs: this.config.WEBHOOK_DISABLE_AFTER_MS,
      reason,
    });
    if (disabled) this.logger.warn({ msg: 'webhook subscription disabled', subscription: sub.id, reason });
    if (giveUp || disabled) {
      if (disabled && !giveUp) await this.repo.abandonDelivery(deliveryId);
      return;
    }
    throw Failure.transient(`webhook delivery ${deliveryId} attempt ${started.attempts}: ${reason}`);
  }

  /** BullMQ will not run the job again: the delivery ends as failed. */
  abandon(deliveryId: string): Promise<void> {
    return this.repo.abandonDelivery(deliveryId);
  }
}
