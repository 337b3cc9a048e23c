import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { type Caller, DomainError, ErrorCode } from '../../../libs/core';
import { problem, type Problem, RETRY_AFTER_SECONDS, STATUS_OF } from './problem';
import { RefusalRecorder } from './refusal-recorder';

/** Errors Fastify raises before a handler runs (parsing, body size, media type). */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_body',
};

/**
 * Turns every error into application/problem+json. Domain errors keep their code; anything
 * unexpected is logged with a correlation id and answered as a bare 500. Refusals go to the
 * RefusalRecorder (audited only when a verified caller made them; never with the token or body).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly refusals: RefusalRecorder) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest & { user?: Caller }>();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toProblem(exception, req);
    if (body.status >= 500) {
      this.logServerSide(exception, req, body);
    } else {
      await this.refusals.record(req, body);
    }
    if (body.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    const retryAfter = exception instanceof DomainError ? RETRY_AFTER_SECONDS[exception.code] : undefined;
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    await reply.status(body.status).header('content-type', 'application/problem+json').send(body);
  }

  /**
   * A domain error answered with 5xx (an outage, a registry down) was handled: a warning naming
   * its cause, no stack. Anything else is a bug: an error with its stack.
   */
  private logServerSide(e: unknown, req: FastifyRequest, p: Problem): void {
    if (e instanceof DomainError) {
      // The driver's own words (ECONNREFUSED, "Connection terminated…") say which outage it was.
      const cause = (e as { cause?: unknown }).cause;
      const why = cause instanceof Error ? cause.message || (cause as { code?: string }).code : undefined;
      this.logger.warn({
        msg: 'dependency unavailable',
        requestId: req.id,
        code: p.code,
        error: e.message,
        ...(why ? { cause: why } : {}),
      });
      return;
    }
    this.logger.error({
      msg: 'unhandled error',
      requestId: req.id,
      error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      stack: e instanceof Error ? e.stack : undefined,
    });
  }

  private toProblem(e: unknown, req: FastifyRequest): Problem {
    const base = { instance: req.url.split('?')[0], requestId: String(req.id) };
    if (e instanceof DomainError) {
      let errors = (e.details?.errors as Problem['errors']) ?? undefined;
      const details = { ...(e.details ?? {}) };
      delete details.errors;
      // Every validation problem names its field in `errors`, also when the thrower only said `field`.
      if (!errors && e.code === ErrorCode.ValidationFailed && typeof details.field === 'string') {
        const field = details.field;
        const message = e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
        errors = [{ field, message }];
      }
      return problem(STATUS_OF[e.code], e.code, e.message, {
        ...base,
        ...(errors ? { errors } : {}),
        details,
      });
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      // Fastify's own errors (body parsing, size, media type) arrive wrapped, with the original as cause.
      const cause = e.cause as FastifyLikeError | undefined;
      const fastifyCode = cause?.code ? FASTIFY_CODES[cause.code] : undefined;
      const code =
        fastifyCode ??
        (status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : `http_${status}`);
      const detail = status === 404 ? `no route ${req.method} ${base.instance}` : e.message;
      return problem(status, code, detail, base);
    }
    const f = e as FastifyLikeError;
    if (typeof f?.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
      const code = (f.code && FASTIFY_CODES[f.code]) ?? 'bad_request';
      return problem(f.statusCode, code, f.message ?? 'bad request', base);
    }
    return problem(
      500,
      'internal_error',
      `an unexpected error occurred; quote request id ${String(req.id)}`,
      base,
    );
  }
}
