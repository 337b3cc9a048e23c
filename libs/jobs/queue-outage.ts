import { chainMessageMatches, DomainError, errorChain, ErrorCode, isSocketFailure } from '../domain';

/**
 * What ioredis and BullMQ say when Redis could not be reached or went away: the connection was
 * closed, the command waited through its retries, no connection to send it on (offline queue
 * off), no answer within commandTimeout, or Redis still loading its data after a restart.
 */
const REDIS_CONNECTION_MESSAGES: readonly RegExp[] = [
  /^Connection is closed/,
  /^Reached the max retries per request limit/,
  /^Stream isn't writeable/,
  /^Command timed out/,
  /^LOADING /,
];

/** True when `e` means Redis could not be reached (not that it refused the command). */
export function isQueueUnreachable(e: unknown): boolean {
  if (e instanceof DomainError) return false;
  const named = errorChain(e).some((x) => x.name === 'MaxRetriesPerRequestError');
  return named || isSocketFailure(e) || chainMessageMatches(e, REDIS_CONNECTION_MESSAGES);
}

export function queueUnavailable(cause: unknown): DomainError {
  const err = new DomainError(
    ErrorCode.QueueUnavailable,
    'the job queue cannot be reached right now; retry later',
    {
      dependency: 'redis',
    },
  );
  return Object.assign(err, { cause });
}

/** The queue's edge: an unreachable Redis becomes queue_unavailable, anything else passes. */
export async function atQueueEdge<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw isQueueUnreachable(e) ? queueUnavailable(e) : e;
  }
}
