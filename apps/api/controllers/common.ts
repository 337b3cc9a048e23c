import { type PipeTransform } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DomainError, ENVIRONMENT_NAME, ErrorCode } from '../../../libs/core';

export class PageQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(600)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

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
