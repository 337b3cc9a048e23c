import { Redis, type RedisOptions } from 'ioredis';
import { type AirlockConfig } from '../config';

/**
 * BullMQ needs `maxRetriesPerRequest: null` on connections used by workers (blocking commands);
 * producers use the same settings so Redis going away makes calls wait and readiness fail,
 * rather than throw mid-relay. `overrides` are for connections that must fail fast instead (the
 * API's rate limiter, which lets requests through when Redis does not answer).
 */
export function createRedis(config: AirlockConfig, name: string, overrides: RedisOptions = {}): Redis {
  return new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `airlock-${name}`,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...overrides,
  });
}
