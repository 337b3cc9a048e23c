import { Body, Controller, Get, HttpCode, Param, type PipeTransform, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
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
  FreezeWindowsView,
  PromotionGateService,
  SetUpstreamsDto,
  EvaluatePolicyDto,
  hasRole,
  PolicyDiffView,
  PolicyEvaluationView,
  PromotionEvaluationService,
  PolicyService,
  PolicyVersionView,
  PromotionDetailView,
  Role,
  RollbackDto,
  RollbackService,
  TagHistoryPage,
  TagHistoryQuery,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { pageOf } from '../http/response-views';
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
    private readonly rollbacks: RollbackService,
    private readonly gate: PromotionGateService,
    private readonly evaluations: PromotionEvaluationService,
  ) {}

  /** Proposes an environment (sources, target, credential profiles); a second admin applies it. */
  @ApiOperation({
    operationId: 'createEnvironment',
    summary: 'Propose an environment',
    description:
      'Proposes a new environment (sources, target, credential profile) as a change that a second admin approves: answers 202 with the change.',
  })
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

  @ApiOperation({
    operationId: 'listEnvironments',
    summary: 'List environments',
    description: 'Every environment with its active policy version, paged with `cursor`.',
  })
  @Get()
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: pageOf(EnvironmentView, 'EnvironmentPage') })
  @ApiProblems(400, 403)
  list(@Query() q: PageQuery): Promise<{ items: EnvironmentView[]; nextCursor: string | null }> {
    return this.environments.list(q.cursor, q.limit ?? 50);
  }

  @ApiOperation({
    operationId: 'getEnvironment',
    summary: 'Get an environment',
    description: 'Sources, target, credentials profile (never its secret) and active policy version.',
  })
  @Get(':name')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: EnvironmentView })
  @ApiProblems(400, 403, 404)
  get(@Param('name', NamePipe) name: string): Promise<EnvironmentView> {
    return this.environments.get(name);
  }

  /**
   * Moves a tag back to a digest Airlock promoted to it before: a promotion of kind rollback,
   * checked and approved as the policy's rollback rules say. A requester of the environment may.
   */
  @ApiOperation({
    operationId: 'rollbackEnvironment',
    summary: "Roll an environment's tag back",
    description:
      "Requests a rollback: moves a tag back to a digest Airlock promoted there before. It is a promotion of kind rollback, held to the policy's rollback section (its approvals and signature checks), recorded as a rollback in the history, audit trail and attestation, and copies no blobs.",
  })
  @Post(':name/rollback')
  @HttpCode(201)
  @Roles([Role.Requester])
  @ApiCreatedResponse({ type: PromotionDetailView })
  @ApiProblems(400, 403, 404, 409, 413, 415, 422)
  rollback(
    @Param('name', NamePipe) name: string,
    @Body() dto: RollbackDto,
    @CurrentCaller() caller: Caller,
  ): Promise<PromotionDetailView> {
    return this.rollbacks.request(name, dto, caller);
  }

  /** What Airlock wrote to the environment's tags, newest first: digest, promotion, kind, when. */
  @ApiOperation({
    operationId: 'getEnvironmentHistory',
    summary: 'History of digests per tag',
    description:
      "What each tag of the environment pointed to over time, from Airlock's promotions and rollbacks, newest first.",
  })
  @Get(':name/history')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: TagHistoryPage })
  @ApiProblems(400, 403, 404)
  history(@Param('name', NamePipe) name: string, @Query() q: TagHistoryQuery): Promise<TagHistoryPage> {
    return this.rollbacks.history(name, q);
  }

  /**
   * Proposes the environment's upstreams (the chain): a digest may then be requested here only
   * after it was promoted into one of them. A trust change: a second admin applies it.
   */
  @ApiOperation({
    operationId: 'setEnvironmentUpstreams',
    summary: "Propose an environment's upstreams",
    description:
      'Proposes the environments a digest must have been promoted into before it may be requested here (the chain), as a change a second admin approves (202).',
  })
  @Post(':name/upstreams')
  @HttpCode(202)
  @Roles([Role.Admin])
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  setUpstreams(
    @Param('name', NamePipe) name: string,
    @Body() dto: SetUpstreamsDto,
    @CurrentCaller() caller: Caller,
  ): Promise<ChangeView> {
    requireEnvironmentAdmin(caller, name);
    return this.changes.propose(
      { kind: ChangeKind.EnvironmentSetUpstreams, payload: { environment: name, upstreams: dto.upstreams } },
      caller,
    );
  }

  /**
   * The freeze windows in force (the active policy's `freeze` section; changed by a new policy
   * version another admin activates), with their next occurrences and whether promotions are frozen now.
   */
  @ApiOperation({
    operationId: 'listFreezeWindows',
    summary: 'List freeze windows and their next occurrences',
    description:
      "The deny and allow windows of the environment's active policy, with their next start and end in their time zone, and whether promotions may start now.",
  })
  @Get(':name/freeze-windows')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: FreezeWindowsView })
  @ApiProblems(400, 403, 404)
  freezeWindows(@Param('name', NamePipe) name: string): Promise<FreezeWindowsView> {
    return this.gate.freezeWindows(name);
  }

  @ApiOperation({
    operationId: 'addPolicyVersion',
    summary: 'Add a policy version',
    description: 'Validates and stores a new policy version (not yet active). Admin of the environment.',
  })
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

  @ApiOperation({
    operationId: 'listPolicyVersions',
    summary: 'List policy versions',
    description: "Every version of the environment's policy, newest first.",
  })
  @Get(':name/policies')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: pageOf(PolicyVersionView, 'PolicyVersionPage') })
  @ApiProblems(400, 403, 404)
  listPolicies(
    @Param('name', NamePipe) name: string,
    @Query() q: PageQuery,
  ): Promise<{ items: PolicyVersionView[]; nextCursor: string | null }> {
    return this.policies.list(name, q.cursor, q.limit ?? 50);
  }

  @ApiOperation({
    operationId: 'getPolicyVersion',
    summary: 'Get a policy version',
    description: 'The policy document, its SHA-256, who added it and whether it is active.',
  })
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

  @ApiOperation({
    operationId: 'activatePolicyVersion',
    summary: 'Activate a policy version',
    description:
      'A second admin (not the author, nor a linked identity) activates a newer version. New requests pin it; requests already made keep theirs.',
  })
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
  @ApiOperation({
    operationId: 'evaluatePolicyVersion',
    summary: 'Judge a policy version before activating it',
    description:
      "Evaluates a (proposed) policy version on one digest, or over the environment's last N promotions from their stored evidence: what it would have rejected or held that the active version let through.",
  })
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
  @ApiOperation({
    operationId: 'diffPolicyVersions',
    summary: 'Compare two policy versions',
    description: "What changed between two versions of the environment's policy, section by section.",
  })
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
