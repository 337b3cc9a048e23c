import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  type Caller,
  CreateRoleBindingDto,
  CreateTrustedIssuerDto,
  IdentityService,
  Role,
  RoleBindingView,
  TokenVerifier,
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
    private readonly verifier: TokenVerifier,
  ) {}

  /** Who the token says you are and what you may do: the first thing to try with a new token. */
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

  @Get('trusted-issuers')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: [TrustedIssuerView] })
  @ApiProblems(403)
  async listIssuers(): Promise<{ items: TrustedIssuerView[] }> {
    return { items: await this.identity.listIssuers() };
  }

  @Post('trusted-issuers')
  @Roles([Role.Admin], 'global')
  @ApiCreatedResponse({ type: TrustedIssuerView })
  @ApiProblems(400, 403, 409, 413, 415)
  addIssuer(
    @Body() dto: CreateTrustedIssuerDto,
    @CurrentCaller() caller: Caller,
  ): Promise<TrustedIssuerView> {
    return this.identity.addIssuer(dto, caller.actor);
  }

  @Delete('trusted-issuers/:id')
  @HttpCode(204)
  @Roles([Role.Admin], 'global')
  @ApiNoContentResponse()
  @ApiProblems(400, 403, 404)
  async removeIssuer(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.identity.removeIssuer(id, caller.actor);
    this.verifier.forget();
  }

  @Get('role-bindings')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: [RoleBindingView] })
  @ApiProblems(403)
  async listBindings(): Promise<{ items: RoleBindingView[] }> {
    return { items: await this.identity.listBindings() };
  }

  @Post('role-bindings')
  @Roles([Role.Admin], 'global')
  @ApiCreatedResponse({ type: RoleBindingView })
  @ApiProblems(400, 403, 413, 415)
  async addBinding(
    @Body() dto: CreateRoleBindingDto,
    @CurrentCaller() caller: Caller,
  ): Promise<RoleBindingView> {
    const view = await this.identity.addBinding(dto, caller.actor);
    this.verifier.forget();
    return view;
  }

  @Delete('role-bindings/:id')
  @HttpCode(204)
  @Roles([Role.Admin], 'global')
  @ApiNoContentResponse()
  @ApiProblems(400, 403, 404)
  async removeBinding(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.identity.removeBinding(id, caller.actor);
    this.verifier.forget();
  }
}
