import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  type Caller,
  ChangeService,
  ChangeView,
  ListChangesQuery,
  RejectChangeDto,
  Role,
  TokenVerifier,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { pageOf } from '../http/response-views';
import { uuidPipe } from './promotions.controller';

/**
 * Proposed changes to who is trusted (issuers, role bindings, identity links, environments): they
 * take effect only when an admin other than the proposer approves (four eyes on trust).
 */
@ApiTags('changes')
@ApiBearerAuth()
@Controller('v1/changes')
export class ChangesController {
  constructor(
    private readonly changes: ChangeService,
    private readonly verifier: TokenVerifier,
  ) {}

  @ApiOperation({
    operationId: 'listChanges',
    summary: 'List proposed trust changes',
    description:
      'Changes to trust (issuers, role bindings, environments, credential profiles) wait here for a second admin.',
  })
  @Get()
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: pageOf(ChangeView, 'ChangePage') })
  @ApiProblems(400, 403)
  list(@Query() q: ListChangesQuery): Promise<{ items: ChangeView[]; nextCursor: string | null }> {
    return this.changes.list(q);
  }

  @ApiOperation({
    operationId: 'getChange',
    summary: 'Get a proposed change',
    description: 'The change, its summary of what it widens, and who proposed it.',
  })
  @Get(':id')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: ChangeView })
  @ApiProblems(400, 403, 404)
  get(@Param('id', uuidPipe) id: string): Promise<ChangeView> {
    return this.changes.get(id);
  }

  /** Applies the change; refused with four_eyes_required to the proposer (and their linked identities). */
  @ApiOperation({
    operationId: 'approveChange',
    summary: 'Approve and apply a proposed change',
    description: 'A second admin (not the proposer, nor a linked identity) applies the change. Audited.',
  })
  @Post(':id/approve')
  @HttpCode(200)
  @Roles([Role.Admin], 'global')
  @ApiOkResponse({ type: ChangeView, description: 'Applied; `result` holds what applying returned' })
  @ApiProblems(400, 403, 404, 409)
  async approve(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    const view = await this.changes.approve(id, caller);
    // Verified tokens remember the grants they were checked against: a role change acts at once.
    this.verifier.forget();
    return view;
  }

  /** Rejects (another admin) or withdraws (the proposer); a comment says why. */
  @ApiOperation({
    operationId: 'rejectChange',
    summary: 'Reject a proposed change',
    description:
      'Any admin (the proposer included, to withdraw it) rejects the change with a reason. Audited.',
  })
  @Post(':id/reject')
  @HttpCode(200)
  @Roles([Role.Admin], 'global')
  @ApiOkResponse({ type: ChangeView })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  reject(
    @Param('id', uuidPipe) id: string,
    @Body() dto: RejectChangeDto,
    @CurrentCaller() caller: Caller,
  ): Promise<ChangeView> {
    return this.changes.reject(id, dto.comment, caller);
  }
}
