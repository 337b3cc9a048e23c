import { Injectable, Logger } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { JobName, JobQueue, OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { WebhookRepository } from './webhook.repository';

const BATCH = 200;
const PRUNE_BATCH = 1000;
/** Requeue ids tried before a delivery is left to the admin (re-send). */
const MAX_REQUEUES = 5;

/** The job id of a delivery's round (`resends`) and its k-th requeue (0: the original). */
export function deliveryJobId(deliveryId: string, resends: number, requeue: number): string {
  const base = `webhook-deliver-${deliveryId}${resends === 0 ? '' : `-r${resends}`}`;
  return requeue === 0 ? base : `${base}-q${requeue}`;
}

/**
 * No committed event is lost: a pending delivery must have a live job. One lost with Redis's data
 * (a crash without AOF, a wipe) is found here, from Postgres, and put into the outbox again under
 * the first id of `<id>`, `<id>-q1`, … that Redis does not know, so the relay enqueues it. Runs on
 * the maintenance side with the promotion reconciler (RECONCILE_AFTER_MS, RECONCILE_INTERVAL_MS).
 */
@Injectable()
export class WebhookReconciler {
  private readonly logger = new Logger(WebhookReconciler.name);

  constructor(
    private readonly repo: WebhookRepository,
    private readonly jobs: JobQueue,
    private readonly wakeups: WakeBus,
    private readonly config: AirlockConfig,
  ) {}

  /** One pass; returns how many deliveries it requeued. */
  async reconcile(): Promise<number> {
    if (!this.jobs.connected) return 0;
    let requeued = 0;
    for (const d of await this.repo.staleDeliveries(this.config.RECONCILE_AFTER_MS, BATCH)) {
      const ids = Array.from({ length: MAX_REQUEUES + 1 }, (_, k) => deliveryJobId(d.id, d.resends, k));
      const presence = await Promise.all(ids.map((id) => this.jobs.presence(JobName.DeliverWebhook, id)));
      if (presence.includes('live')) continue;
      const free = presence.indexOf('missing');
      if (free < 0) {
        this.logger.error({ msg: 'webhook delivery stranded; re-send it', deliveryId: d.id });
        continue;
      }
      await this.repo.requeueDelivery(d.id, ids[free]);
      requeued++;
      this.logger.warn({ msg: 'webhook delivery requeued', deliveryId: d.id, jobId: ids[free] });
    }
    if (requeued > 0) this.wakeups.wake(OUTBOX_TOPIC);
    return requeued;
  }

  /** Deletes finished deliveries and their events past WEBHOOK_RETENTION_DAYS, a batch at a time. */
  async prune(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 10; round++) {
      const n = await this.repo.prune(this.config.WEBHOOK_RETENTION_DAYS, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    if (total > 0) this.logger.log({ msg: 'webhook history pruned', deliveries: total });
    return total;
  }
}
