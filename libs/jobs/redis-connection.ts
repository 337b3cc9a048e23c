import { Redis, type RedisOptions } from 'ioredis';
import { type AirlockConfig } from '../config';

/**
 * How a connection is used:
 * - `blocking`: BullMQ workers and the wake-up subscriber. BullMQ needs `maxRetriesPerRequest:
 *   null` there (blocking commands); they wait out an outage and carry on when Redis returns.
 * - `commands`: everything that answers someone (the API's wake publish, queue counts, readiness,
 *   metrics) and the producers (outbox relay, scheduler). No offline queue, one retry and a
 *   command timeout: while Redis is down a call fails within DEPENDENCY_TIMEOUT_MS (and becomes
 *   queue_unavailable) instead of waiting for Redis to return. Callers that must not lose work
 *   (the outbox relay) keep it in Postgres and try again.
 */
export type RedisRole = 'blocking' | 'commands';

export function createRedis(
  config: AirlockConfig,
  name: string,
  role: RedisRole = 'blocking',
  /** For connections with needs of their own (the API's rate limiter fails fast and open). */
  overrides: RedisOptions = {},
): Redis {
  const common = {
    enableReadyCheck: true,
    connectionName: `airlock-${name}`,
    retryStrategy: (times: number) => Math.min(times * 200, 5000),
  };
  if (role === 'blocking') {
    return new Redis(config.REDIS_URL, { ...common, maxRetriesPerRequest: null, ...overrides });
  }
  return new Redis(config.REDIS_URL, {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: config.DEPENDENCY_TIMEOUT_MS,
    connectTimeout: config.DEPENDENCY_TIMEOUT_MS,
    ...overrides,
  });
}
