import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { type Caller, DomainError, ErrorCode } from '../../../libs/core';
import { IS_PUBLIC, REQUIRED_ROLES, type RoleRequirement } from './auth.decorators';

/**
 * passport-http-bearer also reads `access_token` from the query string and the body. A token in a
 * URL ends up in proxy and access logs and browser history, and one in a body is easy to log by
 * mistake: only the Authorization header is accepted, and a request that tries the others is told so.
 */
function refuseTokensOutsideHeader(req: { query?: unknown; body?: unknown }): void {
  const has = (o: unknown): boolean =>
    o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, 'access_token');
  const where = has(req.query) ? 'query string' : has(req.body) ? 'request body' : undefined;
  if (where) {
    throw new DomainError(
      ErrorCode.Unauthenticated,
      `a token in the ${where} (access_token) is not accepted: send it in the Authorization header as "Bearer <token>"`,
      { reason: `token in the ${where}` },
    );
  }
}

/**
 * Default deny: every route needs a verified bearer token unless marked @Public(), and a role
 * when marked @Roles(). Unknown routes never reach here (404 comes first).
 */
@Injectable()
export class GlobalAuthGuard extends AuthGuard('bearer') {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    refuseTokensOutsideHeader(ctx.switchToHttp().getRequest<{ query?: unknown; body?: unknown }>());
    await (super.canActivate(ctx) as Promise<boolean>);
    const caller = ctx.switchToHttp().getRequest<{ user: Caller }>().user;
    const need = this.reflector.getAllAndOverride<RoleRequirement | undefined>(REQUIRED_ROLES, targets);
    if (!need) return true;
    const ok = caller.grants.some(
      (g) => need.roles.includes(g.role) && (need.scope === 'any' || g.environment === null),
    );
    if (!ok) {
      throw new DomainError(
        ErrorCode.Forbidden,
        `this needs the ${need.roles.join(' or ')} role${need.scope === 'global' ? ' for every environment' : ''}`,
        { requiredRoles: need.roles },
      );
    }
    return true;
  }

  override handleRequest<T = Caller>(err: unknown, user: T | false, info: unknown): T {
    if (err instanceof DomainError) throw err;
    if (err || !user) {
      const missing = typeof info === 'string' || info === undefined;
      throw new DomainError(
        ErrorCode.Unauthenticated,
        missing ? 'a bearer token is required' : 'the bearer token was refused',
        { reason: missing ? 'missing bearer token' : 'invalid' },
      );
    }
    return user;
  }
}
