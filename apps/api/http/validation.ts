import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, ErrorCode } from '../../../libs/core';

function flatten(errors: ValidationError[], prefix = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field $1'),
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Validates bodies and queries; unknown fields are refused; every bad field is named. */
export const validationPipe = new ValidationPipe({
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
