import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed input: a field is invalid, unknown or missing (each is named in `errors`)',
  401: 'No bearer token, or a token that is expired, untrusted or does not verify',
  403: 'The caller lacks the role this needs (or four eyes are required)',
  404: 'No such resource',
  409: 'Conflicts with the current state (status changed, duplicate, request still in progress)',
  413: 'Body larger than the configured limit',
  415: 'Body is not application/json',
  422: 'Well-formed but not acceptable (source not allowed, no active policy, key reused, invalid policy)',
  429: 'Too many requests (rate_limited): from this caller, or evaluations running on this server; retry shortly',
  503: "A dependency cannot be reached (database_unavailable, queue_unavailable, registry_unavailable): retry after the Retry-After header's seconds",
};

/**
 * Documents the problem responses a route can return, in the OpenAPI document. Every route may
 * answer 401 and, while Postgres or Redis is down, 503.
 */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  const all = [...new Set([401, ...statuses, 503])];
  return applyDecorators(
    ...all.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      }),
    ),
  );
}
