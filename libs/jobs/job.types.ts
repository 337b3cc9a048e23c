import { PromotionStatus } from '../domain';

/** The one BullMQ queue Airlock uses; job names tell the handlers apart. */
export const AIRLOCK_QUEUE = 'airlock';

export enum JobName {
  /** Run the check stage for a promotion, then evaluate its pinned policy. */
  RunChecks = 'promotion.run-checks',
  /** Periodic: expire requests that waited past their policy's pending timeout. */
  SweepPending = 'approvals.sweep-pending',
}

/**
 * Payloads carry ids only: the worker reloads the row and checks its status, so a job that runs
 * twice, late, or after a crash does the right thing. Nothing secret ever goes into Redis.
 */
export interface JobPayloads {
  [JobName.RunChecks]: { promotionId: string };
  [JobName.SweepPending]: Record<string, never>;
}

export type JobItem = { [N in JobName]: { name: N; data: JobPayloads[N] } }[JobName];
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>;

export const JOB_NAMES: readonly JobName[] = Object.values(JobName);

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/**
 * The work that entering a status starts. The state machine writes the matching outbox row in the
 * same statement as the transition; statuses absent here start nothing.
 */
export const JOB_STARTED_BY: Partial<Record<PromotionStatus, JobName>> = {
  [PromotionStatus.Received]: JobName.RunChecks,
  [PromotionStatus.Checking]: JobName.RunChecks,
};
