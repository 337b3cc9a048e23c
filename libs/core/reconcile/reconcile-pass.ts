import { PROMOTION_STATUSES, type PromotionStatus } from '../../domain';
import {
  type JobName,
  type JobPresence,
  jobIdFor,
  jobStartedBy,
  jobWorking,
  requeueJobId,
} from '../../jobs/job.types';

/** A promotion in a working status whose status has not changed for a while. */
export interface StalePromotion {
  id: string;
  /** Insertion order, the pass's cursor. */
  seq: string;
  status: PromotionStatus;
  /** Its status history, newest first. */
  history: Array<{ id: string; from: PromotionStatus | null; to: PromotionStatus }>;
}

export interface Requeue {
  promotionId: string;
  /** The status and newest history row the decision saw: nothing is enqueued if either changed. */
  status: PromotionStatus;
  lastChangeId: string;
  job: JobName;
  jobId: string;
  reason: string;
}

/** The database side (ReconcileRepository). */
export interface ReconcileStore {
  exclusive<T>(work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  stale(
    statuses: readonly PromotionStatus[],
    olderThanMs: number,
    afterSeq: string,
    limit: number,
  ): Promise<StalePromotion[]>;
  requeue(r: Requeue): Promise<boolean>;
}

/** The queue side (JobQueue). */
export interface JobLookup {
  readonly connected: boolean;
  presence(name: JobName, jobId: string): Promise<JobPresence>;
}

export interface ReconcileLog {
  log(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown): void;
}

/** Ids tried after the original before giving up on a promotion whose jobs all end without moving it. */
export const MAX_REQUEUES = 5;
const BATCH = 500;
/** Longest one pass runs; the next pass carries on where it stopped. */
const PASS_BUDGET_MS = 20_000;

const WORKING = PROMOTION_STATUSES.filter((s) => jobWorking(s) !== null);

export type Decision =
  | { action: 'leave'; jobId: string }
  | { action: 'requeue'; job: JobName; jobId: string; reason: string }
  | { action: 'give-up'; reason: string };

export interface ReconcileReport {
  examined: number;
  requeued: number;
  gaveUp: number;
}

/**
 * Nothing acknowledged is ever stranded: a promotion in a working status (received, checking,
 * approved, promoting) must have a live job. Jobs are lost when Redis loses its data (a crash
 * without AOF, a flush, an eviction) after the outbox row was relayed and deleted, or when a job
 * finished without moving its promotion on (the abandon write failed). A pass finds promotions
 * untouched for RECONCILE_AFTER_MS, asks BullMQ whether their job is live, and if not puts the job
 * in the outbox again, so the normal relay enqueues it.
 *
 * The job id keeps this idempotent: the original id (derived from the history row of the
 * transition that started the work) is reused when Redis no longer knows it; when it exists but
 * finished, the first of `<id>-r1`, `<id>-r2`, … that Redis does not know. No id is enqueued while
 * any of them is live, and two passes deciding alike write the same id, which the outbox's unique
 * index and BullMQ both deduplicate. Passes are serialised by a Postgres advisory lock.
 */
export class Reconciler {
  /** Where the last pass stopped when it ran out of time ('0': from the start). */
  private resumeAfter = '0';

  constructor(
    private readonly repo: ReconcileStore,
    private readonly jobs: JobLookup,
    /** RECONCILE_AFTER_MS: how long a promotion stays untouched before its job is looked at. */
    private readonly afterMs: number,
    private readonly logger: ReconcileLog,
  ) {}

  /** One pass; null when another process is running one (or Redis is unreachable right now). */
  async reconcile(): Promise<ReconcileReport | null> {
    if (!this.jobs.connected) return null;
    const result = await this.repo.exclusive(() => this.pass());
    return result.ran ? result.value : null;
  }

  private async pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { examined: 0, requeued: 0, gaveUp: 0 };
    const deadline = Date.now() + PASS_BUDGET_MS;
    let after = this.resumeAfter;
    for (;;) {
      const batch = await this.repo.stale(WORKING, this.afterMs, after, BATCH);
      for (const p of batch) await this.reconcileOne(p, report);
      if (batch.length < BATCH) {
        this.resumeAfter = '0';
        break;
      }
      after = batch[batch.length - 1].seq;
      if (Date.now() > deadline) {
        this.resumeAfter = after;
        break;
      }
    }
    if (report.requeued || report.gaveUp) this.logger.log({ msg: 'reconcile pass', ...report });
    return report;
  }

  private async reconcileOne(p: StalePromotion, report: ReconcileReport): Promise<void> {
    report.examined += 1;
    const d = await this.decide(p);
    if (d.action === 'leave') return;
    if (d.action === 'give-up') {
      report.gaveUp += 1;
      this.logger.error({
        msg: 'promotion stranded; reconciler gave up',
        promotionId: p.id,
        reason: d.reason,
      });
      return;
    }
    const written = await this.repo.requeue({
      promotionId: p.id,
      status: p.status,
      lastChangeId: p.history[0].id,
      job: d.job,
      jobId: d.jobId,
      reason: d.reason,
    });
    if (!written) return;
    report.requeued += 1;
    this.logger.warn({
      msg: 'promotion requeued',
      promotionId: p.id,
      status: p.status,
      jobId: d.jobId,
      reason: d.reason,
    });
  }

  /** What to do about one stale promotion: leave its live job alone, or which id to enqueue. */
  async decide(p: StalePromotion): Promise<Decision> {
    const job = jobWorking(p.status);
    const started = job ? p.history.find((h) => jobStartedBy(h.from, h.to) === job) : undefined;
    if (!job || !started) return { action: 'give-up', reason: `no transition started work for ${p.status}` };
    const original = jobIdFor(job, p.id, started.id);
    const first = await this.jobs.presence(job, original);
    if (first === 'live') return { action: 'leave', jobId: original };
    // The original may have aged out of Redis while a requeued one runs: look at them all.
    const ids = Array.from({ length: MAX_REQUEUES + 1 }, (_, k) => requeueJobId(original, k));
    const presence = [first, ...(await Promise.all(ids.slice(1).map((id) => this.jobs.presence(job, id))))];
    const live = presence.indexOf('live');
    if (live >= 0) return { action: 'leave', jobId: ids[live] };
    const free = presence.indexOf('missing');
    if (free < 0) {
      return { action: 'give-up', reason: `its job ran ${MAX_REQUEUES + 1} times and left it ${p.status}` };
    }
    const reason =
      first === 'missing' && free === 0
        ? `its job is not in the queue (lost with Redis's data?)`
        : `its job finished but left it ${p.status}`;
    return { action: 'requeue', job, jobId: ids[free], reason };
  }
}
