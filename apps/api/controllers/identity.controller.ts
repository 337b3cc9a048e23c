import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type Caller,
  ChangeKind,
  ChangeService,
  ChangeView,
  CreateRoleBindingDto,
  CreateTrustedIssuerDto,
  IdentityService,
  Role,
  RoleBindingView,
  TrustedIssuerView,
  WhoAmIView,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { uuidPipe } from './promotions.controller';

@ApiTags('identity')
@ApiBearerAuth()
@Controller('v1')
export class IdentityController {
  constructor(
    private readonly identity: IdentityService,
    private readonly changes: ChangeService,
  ) {}

  /** Who the token says you are and what you may do: the first thing to try with a new token. */
  @ApiOperation({
    operationId: 'whoAmI',
    summary: 'Who am I',
    description: "The caller's identity as Airlock sees it: kind, groups, roles and the claims that matter.",
  })
  @Get('whoami')
  @ApiOkResponse({ type: WhoAmIView })
  @ApiProblems()
  whoami(@CurrentCaller() caller: Caller): WhoAmIView {
    return {
      identity: caller.key,
      kind: caller.actor.kind,
      groups: caller.groups,
      roles: caller.grants,
      claims: caller.claims,
    };
  }

  @ApiOperation({
    operationId: 'listTrustedIssuers',
    summary: 'List trusted issuers',
    description: 'OIDC issuers whose tokens Airlock accepts, with their audience and kind.',
  })
  @Get('trusted-issuers')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: [TrustedIssuerView] })
  @ApiProblems(403)
  async listIssuers(): Promise<{ items: TrustedIssuerView[] }> {
    return { items: await this.identity.listIssuers() };
  }

  /** Proposes trusting an issuer; a second admin applies it (POST /v1/changes/:id/approve). */
  @ApiOperation({
    operationId: 'proposeTrustedIssuer',
    summary: 'Propose a trusted issuer',
    description: 'Proposed as a change that a second admin approves (202).',
  })
  @Post('trusted-issuers')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 409, 413, 415)
  addIssuer(@Body() dto: CreateTrustedIssuerDto, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose({ kind: ChangeKind.TrustedIssuerAdd, payload: dto }, caller);
  }

  /** Proposes no longer trusting an issuer. */
  @ApiOperation({
    operationId: 'proposeIssuerRemoval',
    summary: 'Propose removing a trusted issuer',
    description: 'Proposed as a change that a second admin approves (202).',
  })
  @Delete('trusted-issuers/:id')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 404)
  removeIssuer(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose({ kind: ChangeKind.TrustedIssuerRemove, payload: { id } }, caller);
  }

  @ApiOperation({
    operationId: 'listRoleBindings',
    summary: 'List role bindings',
    description: 'Who holds which role, in which environment.',
  })
  @Get('role-bindings')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: [RoleBindingView] })
  @ApiProblems(403)
  async listBindings(): Promise<{ items: RoleBindingView[] }> {
    return { items: await this.identity.listBindings() };
  }

  /** Proposes a role binding; a second admin applies it. */
  @ApiOperation({
    operationId: 'proposeRoleBinding',
    summary: 'Propose a role binding',
    description: 'Proposed as a change that a second admin approves (202).',
  })
  @Post('role-bindings')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 413, 415)
  addBinding(@Body() dto: CreateRoleBindingDto, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose({ kind: ChangeKind.RoleBindingAdd, payload: dto }, caller);
  }

  /** Proposes removing a role binding. */
  @ApiOperation({
    operationId: 'proposeRoleBindingRemoval',
    summary: 'Propose removing a role binding',
    description: 'Proposed as a change that a second admin approves (202).',
  })
  @Delete('role-bindings/:id')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 404)
  removeBinding(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose({ kind: ChangeKind.RoleBindingRemove, payload: { id } }, caller);
  }
}
