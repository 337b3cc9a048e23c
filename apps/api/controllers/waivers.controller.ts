import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type Caller,
  DomainError,
  ErrorCode,
  hasRole,
  RequestWaiverDto,
  RevokeWaiverDto,
  Role,
  WaiverPage,
  WaiverService,
  WaiverView,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { NamePipe, PageQuery } from './common';
import { uuidPipe } from './promotions.controller';

const ANY_ROLE = [Role.Requester, Role.Approver, Role.Admin, Role.Auditor];
const DECIDERS = [Role.Approver, Role.Admin];

/** Asking for, granting and revoking an exception are for the environment's approvers and admins. */
function requireDecider(caller: Caller, environment: string): void {
  if (!DECIDERS.some((r) => hasRole(caller, r, environment))) {
    throw new DomainError(ErrorCode.Forbidden, `this needs the approver or admin role for ${environment}`, {
      environment,
    });
  }
}

/**
 * Waivers: one person asks for an exception to the environment's policy (one check or one finding,
 * for a digest or a repository pattern, until an expiry the policy bounds), another grants it.
 */
@ApiTags('waivers')
@ApiBearerAuth()
@Controller('v1/environments/:name/waivers')
export class WaiversController {
  constructor(private readonly waivers: WaiverService) {}

  @ApiOperation({
    operationId: 'requestWaiver',
    summary: 'Request a waiver',
    description:
      'Asks that one named failing check or finding (a vulnerability id, a secret fingerprint, a license) pass for one digest or repository pattern in this environment, with a reason and an expiry within what the policy allows. A different person must grant it.',
  })
  @Post()
  @Roles(DECIDERS)
  @ApiCreatedResponse({
    type: WaiverView,
    description: 'Requested: it applies once another person grants it',
  })
  @ApiProblems(400, 403, 404, 413, 415)
  request(
    @Param('name', NamePipe) name: string,
    @Body() dto: RequestWaiverDto,
    @CurrentCaller() caller: Caller,
  ): Promise<WaiverView> {
    requireDecider(caller, name);
    return this.waivers.request(name, dto, caller);
  }

  @ApiOperation({
    operationId: 'listWaivers',
    summary: 'List waivers',
    description: "The environment's waivers: requested, granted, revoked and expired.",
  })
  @Get()
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: WaiverPage })
  @ApiProblems(400, 403, 404)
  list(@Param('name', NamePipe) name: string, @Query() q: PageQuery): Promise<WaiverPage> {
    return this.waivers.list(name, q.cursor, q.limit ?? 50);
  }

  @ApiOperation({
    operationId: 'getWaiver',
    summary: 'Get a waiver',
    description: 'One waiver, with who requested and granted it and until when it applies.',
  })
  @Get(':id')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: WaiverView })
  @ApiProblems(400, 403, 404)
  get(@Param('name', NamePipe) name: string, @Param('id', uuidPipe) id: string): Promise<WaiverView> {
    return this.waivers.get(name, id);
  }

  /** Four eyes: not by the person who asked (linked identities count once). */
  @ApiOperation({
    operationId: 'grantWaiver',
    summary: 'Grant a waiver',
    description:
      'A second person (not the requester, nor a linked identity) grants a requested waiver. Audited; named in the check results and attestations of the promotions it lets through.',
  })
  @Post(':id/grant')
  @HttpCode(200)
  @Roles(DECIDERS)
  @ApiOkResponse({ type: WaiverView })
  @ApiProblems(400, 403, 404, 409)
  grant(
    @Param('name', NamePipe) name: string,
    @Param('id', uuidPipe) id: string,
    @CurrentCaller() caller: Caller,
  ): Promise<WaiverView> {
    requireDecider(caller, name);
    return this.waivers.grant(name, id, caller);
  }

  /** Withdraws a request or ends a grant; promotions not yet approved stop relying on it. */
  @ApiOperation({
    operationId: 'revokeWaiver',
    summary: 'Revoke a waiver',
    description: 'Ends a waiver: it no longer applies to promotions not yet approved. Audited.',
  })
  @Post(':id/revoke')
  @HttpCode(200)
  @Roles(DECIDERS)
  @ApiOkResponse({ type: WaiverView })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  revoke(
    @Param('name', NamePipe) name: string,
    @Param('id', uuidPipe) id: string,
    @Body() dto: RevokeWaiverDto,
    @CurrentCaller() caller: Caller,
  ): Promise<WaiverView> {
    requireDecider(caller, name);
    return this.waivers.revoke(name, id, dto.reason, caller);
  }
}
