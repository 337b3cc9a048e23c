import { Injectable, Logger } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { AuditRepository, type Caller, MetricsService } from '../../../libs/core';
import { type Problem } from './problem';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Longest request path kept in an audit event or a log line. */
export const REFUSAL_PATH_MAX = 256;

const cap = (s: string | undefined): string | undefined =>
  s === undefined || s.length <= REFUSAL_PATH_MAX ? s : `${s.slice(0, REFUSAL_PATH_MAX - 1)}…`;

/**
 * Where a refused request (4xx) leaves a trace. The audit trail is append-only and never
 * shrinks, so only refusals that name someone go there: the refused mutating request of a verified
 * caller who holds some role, with bounded fields. A request without such a caller (no token, a
 * refused token, a token that grants no role,
 * an unknown route, a body refused before the guard ran) costs nothing durable: it is logged and
 * counted in `airlock_http_unaudited_refusals_total`, and the rate limiter bounds how many there are.
 */
@Injectable()
export class RefusalRecorder {
  private readonly logger = new Logger('http');

  constructor(
    private readonly audit: AuditRepository,
    private readonly metrics: MetricsService,
  ) {}

  async record(req: FastifyRequest & { user?: Caller }, p: Problem): Promise<void> {
    // A token that verifies but grants no role (any workload of a trusted CI issuer can mint one,
    // under a fresh subject per repository) is treated like no token: it names nobody Airlock
    // gave standing to, so its refusals must not grow the append-only trail either.
    if (!req.user || req.user.grants.length === 0) {
      this.metrics.unauditedRefusals.inc({ status: String(p.status), code: p.code });
      this.logger.log({
        msg: 'request refused',
        requestId: req.id,
        method: req.method,
        path: cap(p.instance),
        status: p.status,
        code: p.code,
      });
      return;
    }
    if (!MUTATING.has(req.method)) return;
    try {
      await this.audit.record({
        actor: req.user.actor,
        action: 'request.refused',
        subjectType: 'route',
        subjectId: `${req.method} ${req.routeOptions?.url ?? 'unknown'}`,
        details: { status: p.status, code: p.code, path: cap(p.instance), requestId: p.requestId },
      });
    } catch (err) {
      this.logger.warn({ msg: 'could not record refused request', requestId: req.id, error: String(err) });
    }
  }
}
