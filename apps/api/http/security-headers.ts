import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { type IncomingMessage, type ServerResponse } from 'node:http';

/** The documentation's static files (Swagger UI's scripts, styles, icons) may be cached. */
const DOCS_ASSET = /^\/docs\/.+\.(js|css|png|map)(\?|$)/;

/**
 * Security headers on every answer, errors and 404s included (helmet's onRequest hook):
 * `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`,
 * no referrer, same-origin resource policy. The CSP is the one the Swagger UI page at /docs needs
 * and no more: its scripts and styles come from this origin, it inlines styles and data: images,
 * and fetches the OpenAPI document from here. JSON answers do not execute, so one policy serves
 * both. No `upgrade-insecure-requests`: a plain-http deployment's /docs would lose its assets.
 *
 * Answers also say `Cache-Control: no-store` (promotions, tokens' callers, audit events must not
 * sit in a shared cache), except the documentation's static files.
 */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * The headers helmet sets with these options, worked out once: they are the same for every
 * answer (no nonces), and @fastify/helmet built helmet's middleware, CSP parsing included, anew
 * for every request.
 */
export function securityHeaders(options: Readonly<HelmetOptions> = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(): void {},
  };
  // helmet throws an option it refuses (it no longer hands errors to the callback).
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, () => undefined);
  return headers;
}

export function addSecurityHeaders(app: NestFastifyApplication): void {
  const headers = securityHeaders();
  const fastify = app.getHttpAdapter().getInstance();
  // At the first hook, so errors and 404s carry them too. On Fastify's reply rather than the raw
  // response: Node then takes every header of an answer from one object when it writes the head,
  // instead of checking each one as it is set and again when written.
  fastify.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(headers);
    done();
  });
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (!DOCS_ASSET.test(req.url)) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
