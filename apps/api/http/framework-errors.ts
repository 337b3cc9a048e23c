import { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { type Socket } from 'node:net';
import { problem } from './problem';

/**
 * Headers every answer carries, repeated here for the few that Fastify writes before any hook
 * runs (the security headers plugin never sees them).
 */
export const BARE_HEADERS = {
  'content-type': 'application/problem+json',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

/**
 * Answers the errors Node's HTTP parser raises before a request exists (headers too large,
 * malformed request line, timeouts) as problem+json on the raw socket, then closes it: there is
 * no request to hand to Nest, and the connection's state is unknown.
 */
export function clientErrorHandler(
  err: NodeJS.ErrnoException & { rawPacket?: unknown },
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'header_too_large', 'the request headers are larger than the server accepts']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request was not received in time']
        : [400, 'malformed_request', 'the request could not be parsed as HTTP'];
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable) {
    const headers = Object.entries({ ...BARE_HEADERS, 'content-length': Buffer.byteLength(body) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}connection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Fastify's router errors (a path that is not valid percent-encoding, a path parameter over
 * maxParamLength), which it answers before routing and so before Nest's exception layer.
 */
export function frameworkErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
  const instance = req.url.split('?')[0].slice(0, 256);
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path parameter is longer than the server accepts'
      : 'the path is not valid percent-encoding';
  void reply
    .code(status)
    .headers(BARE_HEADERS)
    .send(problem(status, 'malformed_request', detail, { instance, requestId: String(req.id) }));
}
