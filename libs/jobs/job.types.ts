import { PromotionStatus } from '../domain';

/**
 * BullMQ queues by stage. A worker consumes the queues its WORKER_QUEUES names, so promoters, the
 * only processes that hold production registry credentials, can run apart from the checkers.
 */
export enum QueueName {
  Checks = 'checks',
  Promote = 'promote',
  Maintenance = 'maintenance',
}

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QueueName);

export enum JobName {
  /** Run the check stage for a promotion, then evaluate its pinned policy. */
  RunChecks = 'promotion.run-checks',
  /** Copy an approved promotion's artifact to the target and attest it. */
  Promote = 'promotion.promote',
  /** Periodic: expire requests that waited past their policy's pending timeout. */
  SweepPending = 'approvals.sweep-pending',
}

/**
 * Payloads carry ids only: the worker reloads the row and checks its status, so a job that runs
 * twice, late, or after a crash does the right thing. Nothing secret ever goes into Redis.
 */
export interface JobPayloads {
  [JobName.RunChecks]: { promotionId: string };
  [JobName.Promote]: { promotionId: string };
  [JobName.SweepPending]: Record<string, never>;
}

/** Which queue carries each job. */
export const QUEUE_OF: Readonly<Record<JobName, QueueName>> = {
  [JobName.RunChecks]: QueueName.Checks,
  [JobName.Promote]: QueueName.Promote,
  [JobName.SweepPending]: QueueName.Maintenance,
};

export type JobItem = { [N in JobName]: { name: N; data: JobPayloads[N] } }[JobName];
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>;

export const JOB_NAMES: readonly JobName[] = Object.values(JobName);

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/**
 * The work a transition starts. The state machine writes the matching outbox row in the same
 * statement as the transition. Keyed by the transition, not the status: the check stage's own
 * received → checking must not start a second check stage, a retry's failed → checking must.
 */
export function jobStartedBy(from: PromotionStatus | null, to: PromotionStatus): JobName | null {
  if (to === PromotionStatus.Received) return JobName.RunChecks;
  if (from === PromotionStatus.Failed && to === PromotionStatus.Checking) return JobName.RunChecks;
  if (to === PromotionStatus.Approved) return JobName.Promote;
  return null;
}
