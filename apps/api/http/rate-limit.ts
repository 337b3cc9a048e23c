import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { type AirlockConfig } from '../../../libs/config';
import { DomainError, ErrorCode, type JsonLogger, MetricsService, TokenVerifier } from '../../../libs/core';
import { createRedis } from '../../../libs/jobs';

/** Routes no budget applies to: probes, metrics scrapes and the API's documentation. */
const EXEMPT = /^\/(healthz|readyz|metrics|openapi\.json|openapi\.yaml|docs)([/?]|$)/;
/** A store that does not answer in this time lets the request through (counted and logged). */
const STORE_TIMEOUT_MS = 250;
const STORE_ERROR_LOG_EVERY_MS = 10_000;
const STARTUP_WAIT_MS = 3_000;

const BUDGET_KEY = Symbol('airlock.rateLimitKey');
type Budgeted = FastifyRequest & { [BUDGET_KEY]?: string };

/** An IPv4 address, or the /64 an IPv6 address is in (one host usually holds the whole /64). */
const addressKey = (req: FastifyRequest): string => `address:${normalizeIP(req.ip, 64)}`;

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
  await app.register(fastifyRateLimit, {
    global: false,
    redis,
    nameSpace: `${config.REDIS_PREFIX}:rate-limit:`,
    timeWindow: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    keyGenerator: (req: FastifyRequest) => (req as Budgeted)[BUDGET_KEY] ?? addressKey(req),
    max: (_req: FastifyRequest, key: string) =>
      key.startsWith('caller:') ? config.RATE_LIMIT_CALLER_MAX : config.RATE_LIMIT_ANONYMOUS_MAX,
  });
  const spend = fastify.createRateLimit();
  fastify.addHook('onClose', async () => {
    redis.disconnect();
  });

  /** The budget this request spends: its verified caller's, or its address's. */
  const budgetOf = async (req: FastifyRequest): Promise<{ key: string; max: number }> => {
    const token = bearerToken(req);
    if (token) {
      // A hit in the verifier's cache for the guard right after; a refused token is anonymous.
      const caller = await verifier.verify(token).catch(() => undefined);
      // A caller with no role spends its address's budget: new subjects (a fresh CI repository)
      // must not bring fresh budgets.
      if (caller && caller.grants.length > 0) {
        const id = createHash('sha256').update(caller.key).digest('base64url').slice(0, 32);
        return { key: `caller:${id}`, max: config.RATE_LIMIT_CALLER_MAX };
      }
    }
    return { key: addressKey(req), max: config.RATE_LIMIT_ANONYMOUS_MAX };
  };

  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (EXEMPT.test(req.url)) return;
    const budget = await budgetOf(req);
    if (budget.max === 0) return;
    (req as Budgeted)[BUDGET_KEY] = budget.key;
    let result;
    try {
      result = await spend(req);
    } catch (e) {
      metrics.rateLimitStoreErrors.inc();
      logStoreProblem(e);
      return;
    }
    if (result.isAllowed) return;
    void reply.header('ratelimit-limit', result.max);
    void reply.header('ratelimit-remaining', result.remaining);
    void reply.header('ratelimit-reset', result.ttlInSeconds);
    if (!result.isExceeded) return;
    const retryAfter = Math.max(1, result.ttlInSeconds);
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
