import { Body, Controller, Get, HttpCode, Param, type PipeTransform, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  type Caller,
  ChangeKind,
  ChangeService,
  ChangeView,
  CreateEnvironmentDto,
  CreatePolicyVersionDto,
  DomainError,
  EnvironmentService,
  EnvironmentView,
  ErrorCode,
  EvaluatePolicyDto,
  hasRole,
  PolicyDiffView,
  PolicyEvaluationView,
  PromotionEvaluationService,
  PolicyService,
  PolicyVersionView,
  Role,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { NamePipe, PageQuery } from './common';

const ANY_ROLE = [Role.Requester, Role.Approver, Role.Admin, Role.Auditor];
/** Policy version numbers in paths: positive integers that fit the database's int column. */
class VersionPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    const n = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n > 2_147_483_647) {
      throw new DomainError(ErrorCode.ValidationFailed, 'version: must be a positive integer', {
        errors: [{ field: 'version', message: 'must be a positive integer' }],
      });
    }
    return n;
  }
}
const versionPipe = new VersionPipe();

function requireEnvironmentAdmin(caller: Caller, environment: string): void {
  requireEnvironmentRole(caller, environment, [Role.Admin]);
}

function requireEnvironmentRole(caller: Caller, environment: string, roles: Role[]): void {
  if (!roles.some((r) => hasRole(caller, r, environment))) {
    throw new DomainError(
      ErrorCode.Forbidden,
      `this needs the ${roles.join(' or ')} role for ${environment}`,
      {
        environment,
      },
    );
  }
}

@ApiTags('environments')
@ApiBearerAuth()
@Controller('v1/environments')
export class EnvironmentsController {
  constructor(
    private readonly environments: EnvironmentService,
    private readonly policies: PolicyService,
    private readonly changes: ChangeService,
    private readonly evaluations: PromotionEvaluationService,
  ) {}

  /** Proposes an environment (sources, target, credential profiles); a second admin applies it. */
  @Post()
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 409, 413, 415, 422)
  create(@Body() dto: CreateEnvironmentDto, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose({ kind: ChangeKind.EnvironmentCreate, payload: dto }, caller);
  }

  @Get()
  @Roles(ANY_ROLE)
  @ApiProblems(400, 403)
  list(@Query() q: PageQuery): Promise<{ items: EnvironmentView[]; nextCursor: string | null }> {
    return this.environments.list(q.cursor, q.limit ?? 50);
  }

  @Get(':name')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: EnvironmentView })
  @ApiProblems(400, 403, 404)
  get(@Param('name', NamePipe) name: string): Promise<EnvironmentView> {
    return this.environments.get(name);
  }

  @Post(':name/policies')
  @Roles([Role.Admin])
  @ApiCreatedResponse({ type: PolicyVersionView })
  @ApiProblems(400, 403, 404, 413, 415, 422)
  addPolicy(
    @Param('name', NamePipe) name: string,
    @Body() dto: CreatePolicyVersionDto,
    @CurrentCaller() caller: Caller,
  ): Promise<PolicyVersionView> {
    requireEnvironmentAdmin(caller, name);
    return this.policies.addVersion(name, dto, caller);
  }

  @Get(':name/policies')
  @Roles(ANY_ROLE)
  @ApiProblems(400, 403, 404)
  listPolicies(
    @Param('name', NamePipe) name: string,
    @Query() q: PageQuery,
  ): Promise<{ items: PolicyVersionView[]; nextCursor: string | null }> {
    return this.policies.list(name, q.cursor, q.limit ?? 50);
  }

  @Get(':name/policies/:version')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PolicyVersionView })
  @ApiProblems(400, 403, 404)
  getPolicy(
    @Param('name', NamePipe) name: string,
    @Param('version', versionPipe) version: number,
  ): Promise<PolicyVersionView> {
    return this.policies.get(name, version);
  }

  @Post(':name/policies/:version/activate')
  @HttpCode(200)
  @Roles([Role.Admin])
  @ApiOkResponse({ type: PolicyVersionView })
  @ApiProblems(400, 403, 404, 409)
  activate(
    @Param('name', NamePipe) name: string,
    @Param('version', versionPipe) version: number,
    @CurrentCaller() caller: Caller,
  ): Promise<PolicyVersionView> {
    requireEnvironmentAdmin(caller, name);
    return this.policies.activate(name, version, caller);
  }

  /**
   * A policy version (typically proposed, not yet active) judged on one image or on the
   * environment's last N promotions: what it would block before anyone activates it.
   */
  @Post(':name/policies/:version/evaluate')
  @HttpCode(200)
  @Roles([Role.Admin, Role.Approver])
  @ApiOkResponse({ type: PolicyEvaluationView })
  @ApiProblems(400, 403, 404, 413, 415, 422, 429, 503)
  async evaluatePolicy(
    @Param('name', NamePipe) name: string,
    @Param('version', versionPipe) version: number,
    @Body() dto: EvaluatePolicyDto,
    @CurrentCaller() caller: Caller,
  ): Promise<PolicyEvaluationView> {
    requireEnvironmentRole(caller, name, [Role.Admin, Role.Approver]);
    return this.evaluations.evaluatePolicy(await this.environments.byNameCached(name), version, dto, caller);
  }

  /** What changed from version `a` to version `b`, per section, in lines a reviewer reads. */
  @Get(':name/policies/:a/diff/:b')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PolicyDiffView })
  @ApiProblems(400, 403, 404)
  diff(
    @Param('name', NamePipe) name: string,
    @Param('a', versionPipe) a: number,
    @Param('b', versionPipe) b: number,
  ): Promise<PolicyDiffView> {
    return this.policies.diff(name, a, b);
  }
}
