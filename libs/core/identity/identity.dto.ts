import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsEnum,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { isValidRepositoryPattern } from '../../domain';
import { ENVIRONMENT_NAME } from '../environment/environment.dto';
import { Role } from './role-binding.entity';
import { CallerKind } from './trusted-issuer.entity';

const ISSUER_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

@ValidatorConstraint({ name: 'repositoryPattern' })
class RepositoryPatternConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isValidRepositoryPattern(value);
  }
  defaultMessage(): string {
    return '$property must be an owner/name pattern with `*` or `**` wildcards';
  }
}

export class CreateTrustedIssuerDto {
  @ApiProperty({ example: 'https://token.actions.githubusercontent.com' })
  @IsString()
  @MaxLength(512)
  @Matches(ISSUER_URL, { message: 'issuer must be an http(s) URL without query or fragment' })
  issuer!: string;

  @ApiProperty({ enum: CallerKind })
  @IsEnum(CallerKind)
  kind!: CallerKind;

  @ApiProperty({ example: 'airlock', description: 'The exact `aud` tokens must carry' })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'audience must be 1–256 printable characters' })
  audience!: string;

  @ApiPropertyOptional({ example: 'groups' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:/-]{1,128}$/, { message: 'groupsClaim must be a claim name' })
  groupsClaim?: string;
}

export class TrustedIssuerView {
  @ApiProperty() id!: string;
  @ApiProperty() issuer!: string;
  @ApiProperty({ enum: CallerKind }) kind!: CallerKind;
  @ApiProperty() audience!: string;
  @ApiProperty() groupsClaim!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
}

export class CreateRoleBindingDto {
  @ApiProperty({ enum: Role })
  @IsEnum(Role)
  role!: Role;

  @ApiPropertyOptional({ description: 'Environment name; omit for every environment' })
  @IsOptional()
  @Matches(ENVIRONMENT_NAME, { message: 'environment must be an environment name' })
  environment?: string;

  @ApiProperty({ description: 'The issuer whose tokens the binding matches' })
  @IsString()
  @MaxLength(512)
  @Matches(ISSUER_URL, { message: 'issuer must be an http(s) URL' })
  issuer!: string;

  @ApiPropertyOptional({ description: 'Exact subject (`sub`)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  subject?: string;

  @ApiPropertyOptional({ description: 'A group the caller must belong to' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  group?: string;

  @ApiPropertyOptional({ description: 'CI callers: pattern the `repository` claim must match' })
  @IsOptional()
  @Validate(RepositoryPatternConstraint)
  repositoryPattern?: string;

  @ApiPropertyOptional({
    example: 'acme/*',
    description:
      'Requester bindings: artifact repositories its callers may request, beyond a CI workload’s own repository',
  })
  @IsOptional()
  @Validate(RepositoryPatternConstraint)
  artifactRepositoryPattern?: string;
}

export class RoleBindingView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: Role }) role!: Role;
  @ApiPropertyOptional({ nullable: true, type: String }) environment!: string | null;
  @ApiProperty() issuer!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) subject!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) group!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) repositoryPattern!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) artifactRepositoryPattern!: string | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
}

export class RoleGrantView {
  @ApiProperty({ enum: Role }) role!: Role;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'null: in every environment' })
  environment!: string | null;
}

export class WhoAmIView {
  @ApiProperty() identity!: string;
  @ApiProperty({ enum: ['ci', 'human'] }) kind!: string;
  @ApiProperty({ type: [String] }) groups!: string[];
  @ApiProperty({ type: [RoleGrantView] }) roles!: RoleGrantView[];
  @ApiProperty({ type: 'object', additionalProperties: true }) claims!: Record<string, unknown>;
}
