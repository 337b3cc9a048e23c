import { ErrorCode } from '../../../libs/core';

/** HTTP status for each domain error code: the one place that maps one to the other. */
export const STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.FourEyesRequired]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.InvalidTransition]: 409,
  [ErrorCode.IdempotencyKeyInProgress]: 409,
  [ErrorCode.TokenReplayed]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.IdempotencyKeyReused]: 422,
  [ErrorCode.SourceNotAllowed]: 422,
  [ErrorCode.NoActivePolicy]: 422,
  [ErrorCode.InvalidPolicy]: 422,
  [ErrorCode.TagNotFound]: 422,
  [ErrorCode.RegistryUnavailable]: 503,
  [ErrorCode.SelfApproval]: 403,
  [ErrorCode.CommitAuthor]: 403,
  [ErrorCode.NotApprover]: 403,
  [ErrorCode.NotInRuleGroups]: 403,
  [ErrorCode.AlreadyDecided]: 409,
  [ErrorCode.NotAwaitingApproval]: 409,
  [ErrorCode.StaleReview]: 409,
  [ErrorCode.CommentRequired]: 400,
  [ErrorCode.InvalidAdvisories]: 422,
  [ErrorCode.DatabaseUnavailable]: 503,
  [ErrorCode.QueueUnavailable]: 503,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.HostNotAllowed]: 422,
  [ErrorCode.SecretNotAvailable]: 422,
  [ErrorCode.RepositoryNotAllowed]: 403,
  [ErrorCode.BodyTooDeep]: 400,
  [ErrorCode.RegistryRefused]: 422,
  [ErrorCode.RollbackTargetUnknown]: 422,
  [ErrorCode.RollbackNothingToDo]: 409,
  [ErrorCode.UpstreamNotPromoted]: 409,
};

/**
 * Retry-After (seconds) for the codes that mean "not now": a Postgres or Redis restart takes
 * seconds, and a client that waits this long before retrying does not pile onto the recovery.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.DatabaseUnavailable]: 5,
  [ErrorCode.QueueUnavailable]: 5,
};

/** RFC 9457 problem details, with Airlock's stable `code` and the request id. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `https://airlock.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  };
}
