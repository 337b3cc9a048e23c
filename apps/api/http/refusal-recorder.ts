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
 * shrinks, so only refusals that name someone go there: a verified caller's refused mutating
 * request, with bounded fields. A request without a verified caller (no token, a refused token,
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
    if (!req.user) {
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
