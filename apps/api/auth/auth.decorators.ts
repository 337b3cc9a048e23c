import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { type Caller, type Role } from '../../../libs/core';

export const IS_PUBLIC = 'airlock:public';
export const REQUIRED_ROLES = 'airlock:roles';

/** Marks the few routes that need no token: health, readiness, metrics, the OpenAPI document. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export interface RoleRequirement {
  roles: Role[];
  /** `global`: the role must be held for every environment; `any`: in at least one. */
  scope: 'global' | 'any';
}

/** The caller must hold one of these roles. Environment-specific checks happen in the services. */
export const Roles = (
  roles: Role[],
  scope: RoleRequirement['scope'] = 'any',
): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, { roles, scope } satisfies RoleRequirement);

/** The verified caller of this request (set by the global guard). */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<{ user?: Caller }>();
  if (!req.user) throw new Error('CurrentCaller used on a route without authentication');
  return req.user;
});
