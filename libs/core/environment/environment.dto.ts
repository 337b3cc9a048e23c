import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsBoolean,
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
  Validate,
  ValidateIf,
  type ValidatorConstraintInterface,
  ValidatorConstraint,
} from 'class-validator';
import { isValidRepositoryPattern, SECRET_NAME } from '../../domain';

const REGISTRY_HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$/;
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,62}$/;

@ValidatorConstraint({ name: 'repositoryPattern' })
class RepositoryPatternConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isValidRepositoryPattern(value);
  }
  defaultMessage(): string {
    return 'each repository pattern must be lowercase path components, `*` (one component) or `**` (any depth)';
  }
}

export class CredentialProfileDto {
  @ApiProperty({ example: 'https://login.example.com', description: 'OIDC issuer granting registry tokens' })
  @IsString()
  @Matches(/^https?:\/\/[^\s?#]{1,500}$/, { message: 'issuer must be an http(s) URL' })
  issuer!: string;

  @ApiProperty({ example: 'airlock-promoter' })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'clientId must be printable ASCII' })
  clientId!: string;

  @ApiProperty({
    example: 'airlock-promoter',
    description:
      'Name of the secret holding the client secret: a file of that name in AIRLOCK_SECRETS_DIR, or the ' +
      'variable AIRLOCK_SECRET_ENV_PREFIX + NAME (upper case, `-` as `_`). Never a path; never stored by Airlock.',
  })
  @IsString()
  @Matches(SECRET_NAME, {
    message: 'clientSecretName must be a secret name: lower-case letters, digits and dashes (at most 63)',
  })
  clientSecretName!: string;

  /** Refused: secrets are named, never given as paths (the field stays only to say so clearly). */
  @ApiHideProperty()
  @ValidateIf((o: object) => 'clientSecretFile' in o)
  @Equals(undefined, {
    message:
      'clientSecretFile is no longer accepted: name the secret with clientSecretName (a file in AIRLOCK_SECRETS_DIR or an AIRLOCK_SECRET_… variable the operator provides)',
  })
  clientSecretFile?: never;

  @ApiProperty({
    type: [String],
    example: ['registry.prod.example.com'],
    description: 'Registry services (token audiences) allowed',
  })
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @Matches(/^[\x21-\x7e]{1,256}$/, { each: true, message: 'each service must be printable ASCII' })
  services!: string[];
}

export class SourceRuleDto {
  @ApiProperty({ example: 'registry.staging.example.com' })
  @IsString()
  @Matches(REGISTRY_HOST, { message: 'registry must be a host name with an optional port' })
  registry!: string;

  @ApiProperty({ example: ['team/*'], type: [String] })
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Validate(RepositoryPatternConstraint, { each: true })
  repositories!: string[];

  @ApiPropertyOptional({
    description: 'Reach the registry over plain http (loopback or private networks only)',
  })
  @IsOptional()
  @IsBoolean()
  insecure?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Token realms the registry may send Airlock to' })
  @IsOptional()
  @ArrayMaxSize(10)
  @Matches(/^https?:\/\/[^\s?#]{1,500}$/, { each: true, message: 'each token realm must be an http(s) URL' })
  tokenRealms?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Hosts blob downloads may be redirected to' })
  @IsOptional()
  @ArrayMaxSize(10)
  @Matches(REGISTRY_HOST, {
    each: true,
    message: 'each redirect host must be a host name with an optional port',
  })
  redirectHosts?: string[];

  @ApiPropertyOptional({ type: CredentialProfileDto, description: 'How Airlock gets pull tokens here' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CredentialProfileDto)
  credentials?: CredentialProfileDto;

  @ApiPropertyOptional({
    example: 'mirror/{repository}',
    description:
      "The repository a CI workload may request here, in terms of its token's `repository` claim (lowercased); default `{repository}`: the same path",
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9._/-]{0,200}\{repository\}[a-z0-9._/-]{0,200}$/, {
    message: 'ciRepository must be lowercase path characters around one {repository}',
  })
  ciRepository?: string;
}

export class TargetMappingDto {
  @ApiProperty({ example: 'registry.prod.example.com' })
  @IsString()
  @Matches(REGISTRY_HOST, { message: 'registry must be a host name with an optional port' })
  registry!: string;

  @ApiProperty({
    example: 'prod/{repository}',
    description: '`{repository}` is replaced by the source repository',
  })
  @IsString()
  @Matches(/^([a-z0-9._/-]|\{repository\}){1,255}$/, {
    message: 'repository must be lowercase path characters, optionally with {repository}',
  })
  repository!: string;

  @ApiPropertyOptional({
    description: 'Reach the target over plain http (loopback or private networks only)',
  })
  @IsOptional()
  @IsBoolean()
  insecure?: boolean;

  @ApiPropertyOptional({ type: CredentialProfileDto, description: 'How the promoter gets push tokens' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => CredentialProfileDto)
  credentials?: CredentialProfileDto;
}

export class CreateEnvironmentDto {
  @ApiProperty({ example: 'production' })
  @IsString()
  @Matches(ENVIRONMENT_NAME, {
    message: 'name must be lowercase letters, digits and dashes, starting with a letter',
  })
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiProperty({ type: [SourceRuleDto] })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => SourceRuleDto)
  sources!: SourceRuleDto[];

  @ApiProperty({ type: TargetMappingDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => TargetMappingDto)
  target!: TargetMappingDto;
}

export class EnvironmentView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [SourceRuleDto] }) sources!: SourceRuleDto[];
  @ApiProperty({ type: TargetMappingDto }) target!: TargetMappingDto;
  @ApiProperty({
    type: [String],
    description: 'Environments a digest must have been promoted into before it may be requested here',
  })
  upstreams!: string[];
  @ApiPropertyOptional({
    type: [String],
    description: 'Environments that name this one as an upstream (on GET of one environment)',
  })
  downstreams?: string[];
  @ApiPropertyOptional({ nullable: true, type: Number }) activePolicyVersion!: number | null;
  @ApiProperty() createdAt!: string;
}
