/**
 * What the database and queue edges share when they decide whether an error means "the server
 * could not be reached": the socket errors of Node, and the walk through wrapped errors (TypeORM's
 * driverError, `cause`, AggregateError's list when a host name has several addresses).
 */

/** Node socket errors: refused, timed out, reset, or no route/name. Never the request's fault. */
const SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** The error and every error it wraps, outermost first (bounded: wrappers can form cycles). */
export function errorChain(e: unknown): Array<{ code?: unknown; message?: unknown; name?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; name?: unknown }> = [];
  const queue: unknown[] = [e];
  while (queue.length > 0 && out.length < 10) {
    const x = queue.shift();
    if (x === null || typeof x !== 'object' || out.includes(x)) continue;
    out.push(x);
    const w = x as { driverError?: unknown; cause?: unknown; errors?: unknown };
    queue.push(w.driverError, w.cause);
    if (Array.isArray(w.errors)) queue.push(...(w.errors as unknown[]));
  }
  return out;
}

export function isSocketFailure(e: unknown): boolean {
  return errorChain(e).some((x) => typeof x.code === 'string' && SOCKET_CODES.has(x.code));
}

/** The first message in the chain matching one of the patterns. */
export function chainMessageMatches(e: unknown, patterns: readonly RegExp[]): boolean {
  return errorChain(e).some(
    (x) => typeof x.message === 'string' && patterns.some((p) => p.test(x.message as string)),
  );
}
