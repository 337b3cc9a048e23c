import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AirlockConfig } from '../../../libs/config';
import {
  type Caller,
  DomainError,
  ErrorCode,
  hasGlobalRole,
  isOutage,
  Role,
  TokenVerifier,
} from '../../../libs/core';
import { verifiedCaller } from '../auth/request-caller';

export const ADVISORY_IMPORTS_ROUTE = '/v1/advisories/imports';

const unsupported = (): Error =>
  Object.assign(new Error('unsupported media type: application/zip'), {
    statusCode: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  });

const isZip = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/zip';

/**
 * Advisory archives are the one body that is not JSON: read as bytes, on their own route, with
 * their own (large) limit. Bodies are parsed before Nest's guards run, so the caller is checked
 * here first: only a verified global admin can make the server hold an archive in memory.
 */
export function acceptAdvisoryArchives(app: NestFastifyApplication, config: AirlockConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  const verifier = app.get(TokenVerifier);
  fastify.addHook('onRequest', async (req) => {
    if (!isZip(req.headers['content-type'])) return;
    if (req.method !== 'POST' || req.routeOptions.url !== ADVISORY_IMPORTS_ROUTE) throw unsupported();
    const token = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let caller: Caller | null = null;
    // A token that does not verify is refused; an outage while verifying it is a 503, not a 401.
    if (token) {
      caller = await verifiedCaller(req, token, verifier).catch((e: unknown) => {
        if (isOutage(e)) throw e;
        return null;
      });
    }
    if (!caller) throw new DomainError(ErrorCode.Unauthenticated, 'a valid bearer token is required');
    if (!hasGlobalRole(caller, Role.Admin)) {
      throw new DomainError(
        ErrorCode.Forbidden,
        'importing advisories needs the admin role in every environment',
      );
    }
  });
  fastify.addContentTypeParser(
    'application/zip',
    { parseAs: 'buffer', bodyLimit: config.ADVISORY_UPLOAD_LIMIT_BYTES },
    (req, body, done) => {
      if (req.routeOptions.url === ADVISORY_IMPORTS_ROUTE) return done(null, body);
      done(unsupported(), undefined);
    },
  );
}
