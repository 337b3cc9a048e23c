import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type ErrorCode } from '../../../libs/core';
import { STATUS_OF } from './problem';

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

/** The stable `code`s a status carries, from the one table that maps codes to statuses. */
function codesOf(status: number): ErrorCode[] {
  return (Object.entries(STATUS_OF) as Array<[ErrorCode, number]>)
    .filter(([, s]) => s === status)
    .map(([code]) => code)
    .sort();
}

/** A realistic problem body for the status, so generated docs and clients show one. */
function exampleOf(status: number): Record<string, unknown> {
  const code = codesOf(status)[0] ?? `http_${status}`;
  return {
    type: `https://airlock.dev/problems/${code}`,
    title: DESCRIPTIONS[status]?.split(':')[0] ?? 'Error',
    status,
    code,
    detail: DESCRIPTIONS[status] ?? 'Error',
    instance: '/v1/promotions',
    requestId: 'req-1',
    ...(status === 400 ? { errors: [{ field: 'environment', message: 'must be a string' }] } : {}),
  };
}

/**
 * Documents the problem responses a route can return, in the OpenAPI document, each with the
 * stable codes its status carries and an example. Every route that takes a token may answer 401,
 * 429 when the caller exceeds its budget and, while Postgres or Redis is down, 503.
 */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  const all = [...new Set([401, ...statuses, 429, 503])].sort((a, b) => a - b);
  return applyDecorators(
    ...all.map((status) => {
      const codes = codesOf(status);
      const description = DESCRIPTIONS[status] ?? 'Error';
      return ApiResponse({
        status,
        description: codes.length
          ? `${description}. Codes: ${codes.map((c) => `\`${c}\``).join(', ')}`
          : description,
        content: {
          'application/problem+json': {
            schema: { $ref: '#/components/schemas/Problem' },
            example: exampleOf(status),
          },
        },
      });
    }),
  );
}
