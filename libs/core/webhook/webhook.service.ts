import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { DomainError, ErrorCode, eventOfAction, notFound } from '../../domain';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { AuditRepository } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { decodeCursor, type Page, toPage } from '../common/cursor';
import { type Caller } from '../identity/caller';
import { HostGuard } from '../outbound/host-guard';
import {
  type CreateWebhookDto,
  WebhookCreatedView,
  WebhookDeliveryView,
  WebhookSecretView,
  WebhookView,
} from './webhook.dto';
import { WebhookFormat, type WebhookSubscriptionEntity } from './webhook.entity';
import { type NewWebhookEvent, WebhookRepository } from './webhook.repository';

/** A new signing secret: 32 random bytes, Standard Webhooks' `whsec_` + base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

const DEFAULT_GRACE_SECONDS = 86_400;

/**
 * A subscription URL as the audit trail keeps it: its origin only. Chat incoming-webhook URLs carry
 * their secret in the path (`https://hooks.slack.com/services/…`), and auditors need not hold it.
 */
export function auditedUrl(url: string): string {
  const u = new URL(url);
  return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
}

/**
 * Webhook subscriptions (admin only, every change audited) and the recording of events that no
 * promotion transition produces. The secret is generated here and returned once; it never
 * appears in a view, a log, the audit trail or a job.
 */
@Injectable()
export class WebhookService {
  constructor(
    private readonly repo: WebhookRepository,
    private readonly audit: AuditRepository,
    private readonly guard: HostGuard,
    private readonly wakeups: WakeBus,
    private readonly clock: Clock,
  ) {}

  /**
   * Writes the event WEBHOOK_EVENTS maps this audit action to (policy proposed and activated,
   * break-glass signed off, secret found), inside the caller's transaction, which records the
   * audit event too. Call `announced()` after that transaction committed.
   */
  async recordAction(action: string, e: Omit<NewWebhookEvent, 'type'>, m: EntityManager): Promise<void> {
    const type = eventOfAction(action);
    if (type) await this.repo.recordEvent({ ...e, type }, m);
  }

  /** Wakes the outbox relay after a transaction that recorded events committed. */
  announced(): void {
    this.wakeups.wake(OUTBOX_TOPIC);
  }

  async create(dto: CreateWebhookDto, caller: Caller): Promise<WebhookCreatedView> {
    await this.guard.checkUrl('url', dto.url);
    const environments = dto.environments ?? [];
    const secret = newWebhookSecret();
    const created = await this.repo.transaction(async (m) => {
      await this.requireEnvironments(environments, m);
      const s = await this.repo.create(
        {
          url: dto.url,
          eventTypes: dto.eventTypes,
          environments,
          format: dto.format ?? WebhookFormat.Standard,
          description: dto.description ?? null,
          secret,
          createdBy: caller.actor,
        },
        m,
      );
      await this.audit.record(
        {
          actor: caller.actor,
          action: 'webhook.created',
          subjectType: 'webhook_subscription',
          subjectId: s.id,
          details: { url: auditedUrl(s.url), eventTypes: s.eventTypes, environments, format: s.format },
        },
        m,
      );
      return s;
    });
    return { ...WebhookView.of(created), secret };
  }

  async list(): Promise<WebhookView[]> {
    return (await this.repo.list()).map((s) => WebhookView.of(s));
  }

  async get(id: string): Promise<WebhookView> {
    return WebhookView.of(await this.found(id));
  }

  async remove(id: string, caller: Caller): Promise<void> {
    await this.repo.transaction(async (m) => {
      const s = await this.locked(id, m);
      await this.repo.delete(id, m);
      await this.auditChange(caller, 'webhook.deleted', s, { url: auditedUrl(s.url) }, m);
    });
  }

  async disable(id: string, reason: string | undefined, caller: Caller): Promise<WebhookView> {
    return this.repo.transaction(async (m) => {
      const s = await this.locked(id, m);
      const why = `disabled by ${caller.actor.subject}${reason ? `: ${reason}` : ''}`;
      await this.repo.update(
        id,
        { enabled: false, disabledReason: why, disabledAt: new Date(this.clock.now()) },
        m,
      );
      await this.auditChange(caller, 'webhook.disabled', s, { reason: reason ?? null }, m);
      return WebhookView.of((await this.repo.get(id, m)) as WebhookSubscriptionEntity);
    });
  }

  /** Enables again, with a fresh failure clock. Deliveries that failed meanwhile may be re-sent. */
  async enable(id: string, caller: Caller): Promise<WebhookView> {
    const s = await this.found(id);
    await this.guard.checkUrl('url', s.url);
    return this.repo.transaction(async (m) => {
      const again = await this.locked(id, m);
      await this.repo.update(
        id,
        { enabled: true, disabledReason: null, disabledAt: null, failingSince: null },
        m,
      );
      await this.auditChange(caller, 'webhook.enabled', again, {}, m);
      return WebhookView.of((await this.repo.get(id, m)) as WebhookSubscriptionEntity);
    });
  }

  /** A new secret; the old one keeps signing (a second signature) for the grace period. */
  async rotateSecret(
    id: string,
    graceSeconds: number | undefined,
    caller: Caller,
  ): Promise<WebhookSecretView> {
    const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const secret = newWebhookSecret();
    return this.repo.transaction(async (m) => {
      const s = await this.locked(id, m);
      const until = grace > 0 ? new Date(this.clock.now() + grace * 1000) : null;
      await this.repo.update(
        id,
        { secret, previousSecret: until ? s.secret : null, previousSecretExpiresAt: until },
        m,
      );
      await this.auditChange(caller, 'webhook.secret_rotated', s, { graceSeconds: grace }, m);
      return { secret, previousSecretExpiresAt: until ? until.toISOString() : null };
    });
  }

  async deliveries(
    id: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<Page<WebhookDeliveryView>> {
    await this.found(id);
    const after = decodeCursor(cursor, ['createdAt', 'id'] as const);
    const rows = await this.repo.deliveries(id, limit + 1, after);
    return toPage(
      rows,
      limit,
      (r) => WebhookDeliveryView.of(r),
      (r) => ({ createdAt: new Date(r.createdAt).toISOString(), id: r.id }),
    );
  }

  /** Sends a delivery again, under the same webhook-id (receivers de-duplicate on it). */
  async resend(id: string, deliveryId: string, caller: Caller): Promise<void> {
    await this.repo.transaction(async (m) => {
      const s = await this.locked(id, m);
      if (!s.enabled) {
        throw new DomainError(
          ErrorCode.Conflict,
          'the subscription is disabled; enable it before re-sending',
          {
            field: 'id',
          },
        );
      }
      if (!(await this.repo.resend(id, deliveryId, m))) throw notFound('webhook delivery', deliveryId);
      await this.auditChange(caller, 'webhook.resent', s, { deliveryId }, m);
    });
    this.announced();
  }

  private async found(id: string): Promise<WebhookSubscriptionEntity> {
    const s = await this.repo.get(id);
    if (!s) throw notFound('webhook subscription', id);
    return s;
  }

  private async locked(id: string, m: EntityManager): Promise<WebhookSubscriptionEntity> {
    const s = await this.repo.lock(id, m);
    if (!s) throw notFound('webhook subscription', id);
    return s;
  }

  private async requireEnvironments(names: string[], m: EntityManager): Promise<void> {
    if (names.length === 0) return;
    const rows: Array<{ name: string }> = await m.query('SELECT name FROM environment WHERE name = ANY($1)', [
      names,
    ]);
    const missing = names.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length > 0) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `environments: no environment ${missing.join(', ')}`,
        {
          errors: [{ field: 'environments', message: `no environment ${missing.join(', ')}` }],
        },
      );
    }
  }

  private auditChange(
    caller: Caller,
    action: string,
    s: WebhookSubscriptionEntity,
    details: Record<string, unknown>,
    m: EntityManager,
  ): Promise<void> {
    return this.audit.record(
      { actor: caller.actor, action, subjectType: 'webhook_subscription', subjectId: s.id, details },
      m,
    );
  }
}
