import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { type Caller, DriftCheckView, DriftService, DriftView, Role } from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { NamePipe, requireEnvironmentRole } from './common';
import { uuidPipe } from './promotions.controller';

/**
 * Who may ask for a drift check: the people who answer for what runs in the environment, its
 * admins and approvers. A check reads the registry with the environment's credentials, so CI
 * callers (requesters) and auditors may not start one.
 */
const MAY_CHECK = [Role.Admin, Role.Approver];
/** Who may read drift: those, and the environment's auditors. */
const MAY_READ = [Role.Admin, Role.Approver, Role.Auditor];

@ApiTags('drift')
@ApiBearerAuth()
@Controller('v1/environments/:name')
export class DriftController {
  constructor(private readonly drift: DriftService) {}

  /**
   * Queues a drift check of the environment's target registry (run by a worker that consumes the
   * promote queue). If one is queued or running already, that one is returned (200).
   */
  @ApiOperation({
    operationId: 'requestDriftCheck',
    summary: 'Check an environment for drift now',
    description:
      "Compares the target registry's tags of the repositories Airlock manages for the environment with what it promoted, with pull-only credentials. Runs in the worker; answers 202 with the check to follow.",
  })
  @Post('drift-checks')
  @HttpCode(202)
  @Roles(MAY_CHECK)
  @ApiAcceptedResponse({ type: DriftCheckView, description: 'Queued; 200 with the check already queued' })
  @ApiProblems(400, 403, 404)
  async request(
    @Param('name', NamePipe) name: string,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DriftCheckView> {
    requireEnvironmentRole(caller, name, MAY_CHECK);
    const r = await this.drift.request(name, caller);
    if (!r.created) void reply.status(200);
    return r.view;
  }

  @ApiOperation({
    operationId: 'getDriftCheck',
    summary: 'Get a drift check',
    description: "A drift check's progress and what it found.",
  })
  @Get('drift-checks/:id')
  @Roles(MAY_READ)
  @ApiOkResponse({ type: DriftCheckView, description: 'With its findings once finished' })
  @ApiProblems(400, 403, 404)
  get(
    @Param('name', NamePipe) name: string,
    @Param('id', uuidPipe) id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<DriftCheckView> {
    requireEnvironmentRole(caller, name, MAY_READ);
    return this.drift.get(name, id);
  }

  /** The latest finished drift check of the environment with its findings, and any pending one. */
  @ApiOperation({
    operationId: 'getEnvironmentDrift',
    summary: 'Current drift of an environment',
    description:
      "Open drift findings: tags moved behind Airlock's back, tags Airlock never wrote, promoted digests that are gone.",
  })
  @Get('drift')
  @Roles(MAY_READ)
  @ApiOkResponse({ type: DriftView })
  @ApiProblems(400, 403, 404)
  view(@Param('name', NamePipe) name: string, @CurrentCaller() caller: Caller): Promise<DriftView> {
    requireEnvironmentRole(caller, name, MAY_READ);
    return this.drift.view(name);
  }
}
