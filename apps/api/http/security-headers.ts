import fastifyHelmet from '@fastify/helmet';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';

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
export async function addSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
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
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', (req, reply, payload, done) => {
    if (!DOCS_ASSET.test(req.url)) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
