import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { type AirlockConfig } from '../../libs/config';
import { IdentityService, type JsonLogger, MetricsService } from '../../libs/core';
import { ApiModule } from './app.module';
import { acceptAdvisoryArchives } from './http/advisory-upload';
import { clientErrorHandler, frameworkErrors } from './http/framework-errors';
import { acceptJsonBodies } from './http/json-body';
import { limitRequestRates } from './http/rate-limit';
import { addSecurityHeaders } from './http/security-headers';
import { validationPipe } from './http/validation';
import { buildOpenApi } from './openapi';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the API application (not yet listening): shared by main.ts and the OpenAPI export. */
export async function createApi(config: AirlockConfig, logger: JsonLogger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    // Long path parameters reach our validation (a clear 400) instead of Fastify's bare 414.
    maxParamLength: 16_384,
    logger: false,
    // Errors raised before a request reaches Nest are problem+json too.
    clientErrorHandler,
    frameworkErrors,
    // A caller's X-Request-Id is kept when it is sane, so logs correlate across systems.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  // bodyParser off: Nest would add a form parser; Fastify's own JSON parser (with bodyLimit) stays.
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, adapter, {
    logger,
    bufferLogs: true,
    bodyParser: false,
  });
  app.useGlobalPipes(validationPipe);
  app.enableShutdownHooks();

  const metrics = app.get(MetricsService);
  metrics.enableApiGauges();
  const fastify = app.getHttpAdapter().getInstance();
  // First, so that every answer below (429s included) carries the headers.
  addSecurityHeaders(app);
  // JSON only: any other body type is refused with 415 before it reaches a handler.
  for (const type of ['text/plain']) {
    if (fastify.hasContentTypeParser(type)) fastify.removeContentTypeParser(type);
  }
  acceptJsonBodies(app, config);
  acceptAdvisoryArchives(app, config);
  await limitRequestRates(app, config, logger);
  // One histogram child per method, route and status, looked up once: labelling per observation
  // hashed the label set on every request.
  const durations = new Map<string, ReturnType<typeof metrics.httpDuration.labels>>();
  const logRequests = logger.pino.isLevelEnabled('info');
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${req.method} ${status} ${route}`;
    let duration = durations.get(key);
    if (!duration) {
      duration = metrics.httpDuration.labels({ method: req.method, route, status });
      durations.set(key, duration);
    }
    duration.observe(reply.elapsedTime / 1000);
    if (logRequests) {
      logger.pino.info({
        msg: 'request',
        requestId: req.id,
        method: req.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      });
    }
    done();
  });
  fastify.addHook('onSend', (req, reply, payload, done) => {
    void reply.header('x-request-id', req.id);
    done(null, payload);
  });

  const doc = buildOpenApi(app);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  await app.get(IdentityService).bootstrap();
  return app;
}
