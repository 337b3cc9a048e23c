import { normalizeIP } from '@fastify/rate-limit';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { type AirlockConfig } from '../../../libs/config';
import {
  type Caller,
  DomainError,
  ErrorCode,
  type JsonLogger,
  MetricsService,
  TokenVerifier,
} from '../../../libs/core';
import { createRedis } from '../../../libs/jobs';
import { verifiedCaller } from '../auth/request-caller';
import { type CountStore, LeasedCounter } from './leased-counter';

/** Routes no budget applies to: probes, metrics scrapes and the API's documentation. */
const EXEMPT = /^\/(healthz|readyz|metrics|openapi\.json|openapi\.yaml|docs)([/?]|$)/;
/** A store that does not answer in this time lets the request through (counted and logged). */
const STORE_TIMEOUT_MS = 250;
const STORE_ERROR_LOG_EVERY_MS = 10_000;
const STARTUP_WAIT_MS = 3_000;

/** Callers and addresses whose leases a process holds at once (leased-counter.ts). */
const MAX_LEASED_KEYS = 10_000;

/** Adds to a key's count in its fixed window (started by the first addition): [count, ms left]. */
const ADD_SCRIPT = `
  local count = redis.call('INCRBY', KEYS[1], ARGV[2])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  return {count, ttl}`;

/** An IPv4 address, or the /64 an IPv6 address is in (one host usually holds the whole /64). */
const addressKey = (req: FastifyRequest): string => `address:${normalizeIP(req.ip, 64)}`;

/** Remembered per verified caller (the verifier hands out the same object while it caches one). */
const callerKeys = new WeakMap<Caller, string>();

/** The budget key of a caller: its identity, hashed (a subject may be long, or hold a colon). */
function callerBudgetKey(caller: Caller): string {
  let key = callerKeys.get(caller);
  if (key === undefined) {
    key = `caller:${createHash('sha256').update(caller.key).digest('base64url').slice(0, 32)}`;
    callerKeys.set(caller, key);
  }
  return key;
}

/** `Bearer <token>` from the Authorization header: the only place a token is read from. */
function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer ([^\s]+)$/i.exec(h) : null;
  return m?.[1];
}

/**
 * Request budgets per window (RATE_LIMIT_WINDOW_SECONDS), counted in Redis so that every API
 * replica spends the same budget:
 *
 * - a request whose bearer token verifies spends its caller's budget (RATE_LIMIT_CALLER_MAX),
 *   keyed by the verified issuer and subject — a forged or expired token names no one and so
 *   cannot spend anyone's budget but its address's;
 * - every other request (no token, a refused token, an unknown route) spends its address's
 *   budget (RATE_LIMIT_ANONYMOUS_MAX).
 *
 * A process takes the numbers it hands out from Redis a lease at a time (leased-counter.ts: a
 * hundredth of the budget, one at a time for budgets under 200), so a request costs a round trip
 * to Redis only when its process's lease is spent; no window admits more than the budget, and one
 * may admit up to a lease per process fewer.
 *
 * Health, metrics and documentation routes are exempt. Over budget: 429 `rate_limited` with
 * Retry-After. If Redis does not answer within STORE_TIMEOUT_MS the request goes through
 * unlimited (fail open: Redis being down must not take the API down with it), counted in
 * `airlock_rate_limit_store_errors_total` and logged at most every ten seconds.
 */
export async function limitRequestRates(
  app: NestFastifyApplication,
  config: AirlockConfig,
  logger: JsonLogger,
): Promise<void> {
  if (config.RATE_LIMIT_CALLER_MAX === 0 && config.RATE_LIMIT_ANONYMOUS_MAX === 0) return;
  const verifier = app.get(TokenVerifier);
  const metrics = app.get(MetricsService);
  // Fails fast instead of queueing commands while Redis is away, faster than other commands.
  const redis = createRedis(config, 'api-rate-limit', 'commands', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: STORE_TIMEOUT_MS,
  });
  let lastLogged = 0;
  const logStoreProblem = (error: unknown): void => {
    if (Date.now() - lastLogged < STORE_ERROR_LOG_EVERY_MS) return;
    lastLogged = Date.now();
    logger.pino.warn({
      msg: 'rate limit store unavailable: requests pass unlimited',
      error: error instanceof Error ? error.message : String(error),
    });
  };
  redis.on('error', logStoreProblem);
  // Counting starts with the first request when Redis is up; when it is not, the API still starts.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STARTUP_WAIT_MS).unref();
    const settle = (): void => {
      clearTimeout(timer);
      redis.off('ready', settle);
      redis.off('error', settle);
      resolve();
    };
    redis.once('ready', settle);
    redis.once('error', settle);
  });

  const fastify = app.getHttpAdapter().getInstance();
  const prefix = `${config.REDIS_PREFIX}:rate-limit:`;
  const redisAdd = redis as typeof redis & {
    airlockRateLimitAdd(key: string, windowMs: number, n: number): Promise<[number, number]>;
  };
  redis.defineCommand('airlockRateLimitAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
  const store: CountStore = {
    add: async (key, n, windowMs) => {
      const [count, ttlMs] = await redisAdd.airlockRateLimitAdd(prefix + key, windowMs, n);
      return { count, ttlMs };
    },
  };
  const counter = new LeasedCounter(store, {
    windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    maxKeys: MAX_LEASED_KEYS,
  });
  fastify.addHook('onClose', async () => {
    redis.disconnect();
  });

  /** The budget this request spends: its verified caller's, or its address's. */
  const budgetOf = async (req: FastifyRequest): Promise<{ key: string; max: number }> => {
    const token = bearerToken(req);
    if (token) {
      // The guard uses this verification again (request-caller.ts); a refused token is anonymous.
      const caller = await verifiedCaller(req, token, verifier).catch(() => undefined);
      // A caller with no role spends its address's budget: new subjects (a fresh CI repository)
      // must not bring fresh budgets.
      if (caller && caller.grants.length > 0) {
        return { key: callerBudgetKey(caller), max: config.RATE_LIMIT_CALLER_MAX };
      }
    }
    return { key: addressKey(req), max: config.RATE_LIMIT_ANONYMOUS_MAX };
  };

  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (EXEMPT.test(req.url)) return;
    const budget = await budgetOf(req);
    if (budget.max === 0) return;
    let result;
    try {
      result = await counter.spend(budget.key, budget.max);
    } catch (e) {
      metrics.rateLimitStoreErrors.inc();
      logStoreProblem(e);
      return;
    }
    void reply.header('ratelimit-limit', result.max);
    void reply.header('ratelimit-remaining', result.remaining);
    void reply.header('ratelimit-reset', result.resetSeconds);
    if (result.allowed) return;
    const retryAfter = Math.max(1, result.resetSeconds);
    const scope = budget.key.startsWith('caller:') ? 'caller' : 'address';
    metrics.rateLimited.inc({ scope });
    void reply.header('retry-after', retryAfter);
    throw new DomainError(
      ErrorCode.RateLimited,
      `too many requests from this ${scope}: at most ${result.max} every ${config.RATE_LIMIT_WINDOW_SECONDS} s; retry in ${retryAfter} s`,
      {
        scope,
        limit: result.max,
        windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
        retryAfterSeconds: retryAfter,
      },
    );
  });
}
