import { type PipeTransform } from '@nestjs/common';
import {
  type Caller,
  DomainError,
  ENVIRONMENT_NAME,
  ErrorCode,
  hasRole,
  type Role,
} from '../../../libs/core';
import { DIGEST } from '../../../libs/domain';

export { PageQuery } from '../../../libs/core/common/page-query';

/** Environment names in paths: validated like in bodies, so a bad one is a 400, not a 404. */
export class NamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!ENVIRONMENT_NAME.test(value)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'name: must be an environment name', {
        errors: [{ field: 'name', message: 'must be an environment name' }],
      });
    }
    return value;
  }
}

/** Digests in paths: sha256 and 64 lowercase hex characters, else 400. */
export class DigestPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!DIGEST.test(value)) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'digest: must be sha256: and 64 lowercase hex characters',
        {
          errors: [{ field: 'digest', message: 'must be sha256: and 64 lowercase hex characters' }],
        },
      );
    }
    return value;
  }
}

/**
 * The caller must hold one of `roles` for this environment (a grant for it, or for every
 * environment); otherwise 403, naming what is needed.
 */
export function requireEnvironmentRole(caller: Caller, environment: string, roles: readonly Role[]): void {
  if (!roles.some((role) => hasRole(caller, role, environment))) {
    throw new DomainError(
      ErrorCode.Forbidden,
      `this needs the ${roles.join(' or ')} role for ${environment}`,
      { environment },
    );
  }
}
