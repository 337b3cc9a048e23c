import { Injectable } from '@nestjs/common';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import { AirlockConfig } from '../../config';
import { JobQueue } from '../../jobs';
import { DependencyHealth } from './dependency-health.service';
import { OpsRepository } from './ops.repository';

const WORKER_METRICS_TTL_SECONDS = 30;

/**
 * Prometheus metrics. The API serves them; workers (which have no HTTP server) publish theirs to
 * Redis and the API aggregates them into its answer.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'airlock_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'airlock_job_duration_seconds',
    help: 'Worker job durations by job name and outcome',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [this.registry],
  });
  /** Refusals kept out of the audit trail: no verified caller, or no such route (bounded labels). */
  readonly unauditedRefusals = new Counter({
    name: 'airlock_http_unaudited_refusals_total',
    help: 'Refused requests without a verified caller (logged and counted, not audited) by status and code',
    labelNames: ['status', 'code'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'airlock_http_rate_limited_total',
    help: 'Requests refused with 429, by whose budget ran out (caller or address)',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly rateLimitStoreErrors = new Counter({
    name: 'airlock_rate_limit_store_errors_total',
    help: 'Requests let through unlimited because the rate-limit store (Redis) did not answer',
    registers: [this.registry],
  });

  /** Webhook delivery attempts by outcome (delivered, http_error, redirect, timeout, network_error, refused, skipped). */
  readonly webhookDeliveries = new Counter({
    name: 'airlock_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome', 'format'] as const,
    registers: [this.registry],
  });
  /** From the event's commit to the receiver's 2xx, per delivered webhook (retries included). */
  readonly webhookLag = new Histogram({
    name: 'airlock_webhook_delivery_lag_seconds',
    help: 'Time from an event to its successful delivery',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400],
    registers: [this.registry],
  });

  /** API only: gauges read from Postgres and Redis at scrape time (see render). */
  private apiGauges:
    | {
        promotions: Gauge<'status'>;
        jobs: Gauge<'queue' | 'state'>;
        up: Gauge<'dependency'>;
        drift: Gauge<'environment' | 'kind'>;
        verification: Gauge<'environment' | 'kind' | 'blocking'>;
      }
    | undefined;

  constructor(
    private readonly ops: OpsRepository,
    private readonly queue: JobQueue,
    private readonly config: AirlockConfig,
    private readonly health: DependencyHealth,
  ) {}

  /** API only: process metrics and the gauges that read Postgres and Redis at scrape time. */
  enableApiGauges(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'airlock_api_' });
    this.apiGauges = {
      promotions: new Gauge({
        name: 'airlock_promotions',
        help: 'Promotions by status (absent while Postgres cannot be read)',
        labelNames: ['status'] as const,
        registers: [this.registry],
      }),
      jobs: new Gauge({
        name: 'airlock_queue_jobs',
        help: 'Jobs by queue and state (absent while Redis cannot be read)',
        labelNames: ['queue', 'state'] as const,
        registers: [this.registry],
      }),
      drift: new Gauge({
        name: 'airlock_drift_findings',
        help: "Findings of each environment's latest finished drift check, by kind (tag_moved, tag_missing, tag_unknown, digest_missing)",
        labelNames: ['environment', 'kind'] as const,
        registers: [this.registry],
      }),
      verification: new Gauge({
        name: 'airlock_verification_findings',
        help: 'Open continuous-verification findings of the digests promoted in each environment now, by kind and whether the active policy would block them',
        labelNames: ['environment', 'kind', 'blocking'] as const,
        registers: [this.registry],
      }),
      up: new Gauge({
        name: 'airlock_dependency_up',
        help: 'Whether the last scrape could read the dependency (1) or not within DEPENDENCY_TIMEOUT_MS (0)',
        labelNames: ['dependency'] as const,
        registers: [this.registry],
      }),
    };
  }

  /** Worker: publishes its metrics for the API to aggregate. */
  async publish(instance: string): Promise<void> {
    const json = await this.registry.getMetricsAsJSON();
    await this.queue.connection.set(
      this.key(instance),
      JSON.stringify(json),
      'EX',
      WORKER_METRICS_TTL_SECONDS,
    );
  }

  /**
   * API: its own metrics plus every live worker's, in Prometheus text format. Each dependency is
   * read with a bound (DEPENDENCY_TIMEOUT_MS): a dead one costs its metrics, never the answer, and
   * shows as airlock_dependency_up 0.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    const [promotions, jobs, workers, drift, verification] = await Promise.all([
      this.health.within(() => this.ops.promotionCounts()),
      this.health.within(() => this.queue.counts()),
      this.health.within(() => this.workerMetrics()),
      this.health.within(() => this.ops.driftCounts()),
      this.health.within(() => this.ops.verificationCounts()),
    ]);
    const g = this.apiGauges;
    if (g) {
      g.promotions.reset();
      if (promotions.ok) for (const r of promotions.value) g.promotions.set({ status: r.status }, r.count);
      g.jobs.reset();
      if (jobs.ok) for (const c of jobs.value) g.jobs.set({ queue: c.queue, state: c.state }, c.count);
      g.drift.reset();
      if (drift.ok)
        for (const r of drift.value) g.drift.set({ environment: r.environment, kind: r.kind }, r.count);
      g.verification.reset();
      if (verification.ok)
        for (const r of verification.value)
          g.verification.set(
            { environment: r.environment, kind: r.kind, blocking: String(r.blocking) },
            r.count,
          );
      g.up.set({ dependency: 'postgres' }, promotions.ok ? 1 : 0);
      g.up.set({ dependency: 'redis' }, jobs.ok && workers.ok ? 1 : 0);
    }
    const own = await this.registry.getMetricsAsJSON();
    const merged = AggregatorRegistry.aggregate([own, ...(workers.ok ? workers.value : [])]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  private async workerMetrics(): Promise<Array<MetricObjectWithValues<MetricValue<string>>[]>> {
    const keys = await this.scanWorkerKeys();
    const published = keys.length ? await this.queue.connection.mget(...keys) : [];
    return published
      .filter((v): v is string => v !== null)
      .map((v) => JSON.parse(v) as MetricObjectWithValues<MetricValue<string>>[]);
  }

  private key(instance: string): string {
    return `${this.config.REDIS_PREFIX}:metrics:worker:${instance}`;
  }

  private async scanWorkerKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.queue.connection.scan(cursor, 'MATCH', this.key('*'), 'COUNT', 100);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }
}
