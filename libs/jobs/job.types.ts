import { LifecycleWork, type PromotionStatus, workFor, workStartedBy } from '../domain';

/**
 * BullMQ queues by stage. A worker consumes the queues its WORKER_QUEUES names, so promoters, the
 * only processes that hold production registry credentials, can run apart from the checkers.
 */
export enum QueueName {
  Checks = 'checks',
  Promote = 'promote',
  Maintenance = 'maintenance',
  /** Webhook deliveries: retried for a day and more, apart from the promotion work. */
  Webhooks = 'webhooks',
}

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QueueName);

export enum JobName {
  /** Run the check stage for a promotion, then evaluate its pinned policy. */
  RunChecks = 'promotion.run-checks',
  /** Copy an approved promotion's artifact to the target and attest it. */
  Promote = 'promotion.promote',
  /** Release a promotion whose wait (soak, freeze) has ended; delayed until then. */
  Release = 'promotion.release',
  /** Periodic: expire requests that waited past their policy's pending timeout. */
  SweepPending = 'approvals.sweep-pending',
  /** Send one webhook delivery (an event to one subscription), retried with backoff for a day or more. */
  DeliverWebhook = 'webhook.deliver',
  /** Compare one environment's target registry with what Airlock promoted (read-only). */
  DriftCheck = 'drift.check',
  /** Periodic (DRIFT_CHECK_INTERVAL_MS): queue a drift check for every environment. */
  ScheduleDriftChecks = 'drift.schedule',
  /** Re-judge promoted digests' stored evidence after an advisory import or a policy activation. */
  Verify = 'verification.run',
  /** Walk the audit chain for a recorded verification (too long a walk for the API's event loop). */
  VerifyAudit = 'audit.verify',
}

/**
 * Payloads carry ids only: the worker reloads the row and checks its status, so a job that runs
 * twice, late, or after a crash does the right thing. Nothing secret ever goes into Redis.
 */
export interface JobPayloads {
  [JobName.RunChecks]: { promotionId: string };
  [JobName.Promote]: { promotionId: string };
  [JobName.Release]: { promotionId: string };
  [JobName.SweepPending]: Record<string, never>;
  /** The delivery row: its event, subscription and webhook-id. Never the payload or the secret. */
  [JobName.DeliverWebhook]: { deliveryId: string };
  [JobName.DriftCheck]: { checkId: string };
  [JobName.ScheduleDriftChecks]: Record<string, never>;
  [JobName.Verify]: { runId: string };
  [JobName.VerifyAudit]: { verificationId: string };
}

/** Which queue carries each job. */
export const QUEUE_OF: Readonly<Record<JobName, QueueName>> = {
  [JobName.RunChecks]: QueueName.Checks,
  [JobName.Promote]: QueueName.Promote,
  // Releasing only moves a row: the maintenance side does it, not the holders of credentials.
  [JobName.Release]: QueueName.Maintenance,
  [JobName.SweepPending]: QueueName.Maintenance,
  [JobName.DeliverWebhook]: QueueName.Webhooks,
  // Drift reads the target registry with the environment's credential profile: it runs where the
  // promoter runs, the only processes that hold target registry credentials.
  [JobName.DriftCheck]: QueueName.Promote,
  [JobName.ScheduleDriftChecks]: QueueName.Maintenance,
  // Judges stored evidence only (no registry): where the checks run.
  [JobName.Verify]: QueueName.Checks,
  [JobName.VerifyAudit]: QueueName.Maintenance,
};

/**
 * What the reconciler needs to know of a job: `live` (waiting, prioritized, delayed, active or
 * waiting for children: it will run), `finished` (completed or failed: it will not run again) or
 * `missing` (Redis does not know it: never added, removed, or lost with Redis's data).
 */
export type JobPresence = 'live' | 'finished' | 'missing';

export type JobItem = { [N in JobName]: { name: N; data: JobPayloads[N] } }[JobName];
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>;

export const JOB_NAMES: readonly JobName[] = Object.values(JobName);

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/** The job that does each kind of work the lifecycle (libs/domain/promotion-lifecycle.ts) names. */
export const JOB_OF_WORK: Readonly<Record<LifecycleWork, JobName>> = {
  [LifecycleWork.Checks]: JobName.RunChecks,
  [LifecycleWork.Copy]: JobName.Promote,
  [LifecycleWork.Release]: JobName.Release,
};

/**
 * The job a transition starts, as the lifecycle table says. The state machine writes the matching
 * outbox row in the same statement as the transition.
 */
export function jobStartedBy(from: PromotionStatus | null, to: PromotionStatus): JobName | null {
  const work = workStartedBy(from, to);
  return work && JOB_OF_WORK[work];
}

/**
 * The job that works a promotion in this status, or null when nothing works it (a final status,
 * or one that waits for people). A promotion in a working status must always have this job live.
 */
export function jobWorking(status: PromotionStatus): JobName | null {
  const work = workFor(status);
  return work && JOB_OF_WORK[work];
}

/**
 * The id of the job a transition started: the job name, the promotion and the history row of the
 * transition. The same formula is written in SQL where the outbox row is inserted
 * (OUTBOX_INSERT in promotion-state-machine.ts); a spec keeps the two equal.
 */
export function jobIdFor(name: JobName, promotionId: string, historyId: string): string {
  return `${name.replace(/\./g, '-')}-${promotionId}-${historyId}`;
}

/**
 * Ids a job may be enqueued again under when it was lost or finished without moving its promotion
 * on: `attempt` 0 is the original id (reused when Redis no longer knows it), then `<id>-r1`, … .
 */
export function requeueJobId(originalId: string, attempt: number): string {
  return attempt === 0 ? originalId : `${originalId}-r${attempt}`;
}
