import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, ErrorCode } from '../../../libs/core';

/**
 * Of a field's failed constraints, the one that says most: a field that should not be there, then
 * a missing one, then the wrong type. "must be a string" says it all; "must be longer than or equal
 * to 1 characters" beside it only repeats what a number cannot be.
 */
const CONSTRAINT_ORDER = [
  'whitelistValidation',
  'isDefined',
  'isString',
  'isBoolean',
  'isInt',
  'isNumber',
  'isObject',
  'isArray',
  'isEnum',
  'isIn',
  'isNotEmpty',
];

function firstConstraint(constraints: Record<string, string>): string | undefined {
  const name = CONSTRAINT_ORDER.find((c) => c in constraints) ?? Object.keys(constraints)[0];
  return name === undefined ? undefined : constraints[name];
}

/** One failed constraint per field (the most telling), nested fields by their dotted path. */
function flatten(errors: ValidationError[], prefix = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const message = firstConstraint(e.constraints ?? {});
    const own = message
      ? [{ field, message: message.replace(/^property (\S+) should not exist$/, 'unknown field $1') }]
      : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** The first path whose string holds a NUL character (Postgres text cannot store one). */
function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'value' : undefined;
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const found = nulPath(v, path ? `${path}.${k}` : k, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Names of Object.prototype members (`constructor`, `toString`, …). class-validator's whitelist looks
 * field names up in a plain object, so these pass as if declared: they are refused here instead.
 */
const PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The first path whose key is a prototype member name. */
function prototypeKeyPath(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 32 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (PROTOTYPE_KEYS.has(k)) return here;
    const found = prototypeKeyPath(v, here, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Validates bodies, queries and path parameters; unknown fields are refused; every bad field is named once. */
class AirlockValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const nul = nulPath(value, metadata.type === 'param' ? (metadata.data ?? '') : '');
    if (nul) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `invalid request: ${nul}: must not contain NUL characters`,
        {
          errors: [{ field: nul, message: 'must not contain NUL characters' }],
        },
      );
    }
    const reserved =
      metadata.type === 'body' || metadata.type === 'query' ? prototypeKeyPath(value, '') : undefined;
    if (reserved) {
      throw new DomainError(ErrorCode.ValidationFailed, `invalid request: ${reserved}: unknown field`, {
        errors: [{ field: reserved, message: `unknown field ${reserved}` }],
      });
    }
    return super.transform(value, metadata);
  }
}

export const validationPipe = new AirlockValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  stopAtFirstError: false,
  exceptionFactory: (errors) => {
    const list = flatten(errors);
    return new DomainError(
      ErrorCode.ValidationFailed,
      `invalid request: ${list.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      { errors: list },
    );
  },
});
