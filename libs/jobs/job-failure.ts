import { type Job } from 'bullmq';

/**
 * Whether BullMQ will not run this job again after the failure it just reported (a worker's
 * `failed` event). BullMQ sets `finishedOn` only when it moves a job to the failed set for good:
 * attempts exhausted, or an `UnrecoverableError` — which is also how it fails a job that stalled
 * more often than `maxStalledCount` ("job stalled more than allowable limit", raised by the worker
 * that picks it up next). A retried job is delayed or waiting instead, with no `finishedOn`.
 */
export function failedForGood(job: Pick<Job, 'finishedOn'>, error: Error): boolean {
  return typeof job.finishedOn === 'number' || error.name === 'UnrecoverableError';
}
