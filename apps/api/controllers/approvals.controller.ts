import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  ApprovalService,
  BreakGlassDto,
  BreakGlassReviewView,
  type Caller,
  ChangeKind,
  ChangeService,
  ChangeView,
  DecideDto,
  DecisionView,
  DomainError,
  ErrorCode,
  IdentityLinkService,
  LinkIdentityDto,
  PendingApprovalView,
  Role,
  SignOffDto,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { IdentityLinkView, listOf } from '../http/response-views';
import { uuidPipe } from './promotions.controller';

class PendingQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

class ReviewsQuery {
  @ApiPropertyOptional({ enum: ['open', 'all'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'all'])
  status?: 'open' | 'all';
}

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v1')
export class ApprovalsController {
  constructor(
    private readonly approvals: ApprovalService,
    private readonly links: IdentityLinkService,
    private readonly changes: ChangeService,
  ) {}

  /** Approve or reject. Refusals carry a stable code: self_approval, commit_author, not_approver, … */
  // No route-level role: the service refuses with not_approver, a code the caller can act on.
  @ApiOperation({
    operationId: 'decidePromotion',
    summary: 'Approve or reject a promotion',
    description:
      "Records an approver's decision on a promotion awaiting approval. The body names the digest the approver reviewed: a mismatch is refused. Separation of duties: the requester (or a linked identity of theirs) may not approve, and each person counts once. Approvals are re-counted at each decision; the last one needed moves the promotion to approved.",
  })
  @Post('promotions/:id/approvals')
  @HttpCode(201)
  @ApiCreatedResponse({ type: DecisionView })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  decide(
    @Param('id', uuidPipe) id: string,
    @Body() dto: DecideDto,
    @CurrentCaller() caller: Caller,
  ): Promise<DecisionView> {
    return this.approvals.decide(id, dto, caller);
  }

  @ApiOperation({
    operationId: 'listPendingApprovals',
    summary: 'List promotions awaiting my approval',
    description:
      'Promotions in environments where the caller is an approver, awaiting approval, that the caller may still decide (not their own, not decided yet).',
  })
  @Get('approvals/pending')
  @Roles([Role.Approver])
  @ApiOkResponse({ type: [PendingApprovalView] })
  @ApiProblems(400, 403)
  async pending(
    @Query() q: PendingQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<{ items: PendingApprovalView[] }> {
    return { items: await this.approvals.pending(caller, q.limit ?? 50) };
  }

  @ApiOperation({
    operationId: 'breakGlassPromotion',
    summary: 'Promote past missing approvals (break-glass)',
    description:
      'For emergencies: a break-glass role may approve a promotion without the approvals its policy requires. Signature checks still apply. Loudly audited, attested, and opens a review that an approver or admin of the environment must sign off.',
  })
  @Post('promotions/:id/break-glass')
  @HttpCode(201)
  @Roles([Role.BreakGlass])
  @ApiCreatedResponse({
    type: BreakGlassReviewView,
    description: 'The promotion is approved; the review is open',
  })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  breakGlass(
    @Param('id', uuidPipe) id: string,
    @Body() dto: BreakGlassDto,
    @CurrentCaller() caller: Caller,
  ): Promise<BreakGlassReviewView> {
    return this.approvals.breakGlass(id, dto.reason, caller);
  }

  @ApiOperation({
    operationId: 'listBreakGlassReviews',
    summary: 'List break-glass reviews',
    description: 'Open (default) or all reviews of break-glass promotions.',
  })
  @Get('break-glass-reviews')
  @Roles([Role.Approver, Role.Admin, Role.Auditor, Role.BreakGlass])
  @ApiOkResponse({ type: [BreakGlassReviewView] })
  @ApiProblems(400, 403)
  async reviews(@Query() q: ReviewsQuery): Promise<{ items: BreakGlassReviewView[] }> {
    return { items: await this.approvals.reviews((q.status ?? 'open') === 'open') };
  }

  @ApiOperation({
    operationId: 'signOffBreakGlassReview',
    summary: 'Sign off a break-glass review',
    description:
      'An approver or admin of the environment, other than the person who broke the glass (or a linked identity of theirs), closes the review.',
  })
  @Post('break-glass-reviews/:id/sign-off')
  @HttpCode(200)
  @Roles([Role.Approver, Role.Admin])
  @ApiOkResponse({ type: BreakGlassReviewView })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  signOff(
    @Param('id', uuidPipe) id: string,
    @Body() dto: SignOffDto,
    @CurrentCaller() caller: Caller,
  ): Promise<BreakGlassReviewView> {
    return this.approvals.signOff(id, dto.comment, caller);
  }

  @ApiOperation({
    operationId: 'listIdentityLinks',
    summary: 'List identity links',
    description:
      'Identities known to be the same person (for separation of duties: linked identities count once).',
  })
  @Get('identity-links')
  @Roles([Role.Admin, Role.Auditor], 'global')
  @ApiOkResponse({ type: listOf(IdentityLinkView, 'IdentityLinkList') })
  @ApiProblems(403)
  async listLinks(): Promise<{ items: unknown[] }> {
    return { items: await this.links.list() };
  }

  /** Proposes linking an identity to a person; a second admin applies it. */
  @ApiOperation({
    operationId: 'linkIdentities',
    summary: 'Link two identities as one person',
    description:
      'Admin only; audited. From then on the two identities count as one person for approvals, sign-offs and four eyes.',
  })
  @Post('identity-links')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 409, 413, 415)
  link(@Body() dto: LinkIdentityDto, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    return this.changes.propose(
      { kind: ChangeKind.IdentityLinkAdd, payload: { identity: dto.identity, person: dto.person } },
      caller,
    );
  }

  /** Proposes removing a link. Any stored identity can be named, well-formed or not. */
  @ApiOperation({
    operationId: 'unlinkIdentity',
    summary: 'Remove an identity link',
    description: 'Admin only; audited.',
  })
  @Delete('identity-links/:identity')
  @HttpCode(202)
  @Roles([Role.Admin], 'global')
  @ApiAcceptedResponse({
    type: ChangeView,
    description: 'Proposed: nothing changes until another person approves',
  })
  @ApiProblems(400, 403, 404)
  unlink(@Param('identity') identity: string, @CurrentCaller() caller: Caller): Promise<ChangeView> {
    if (!/^[\x21-\x7e]{1,600}$/.test(identity)) {
      throw new DomainError(ErrorCode.ValidationFailed, 'identity: must be printable ASCII without spaces', {
        errors: [{ field: 'identity', message: 'must be printable ASCII without spaces' }],
      });
    }
    return this.changes.propose({ kind: ChangeKind.IdentityLinkRemove, payload: { identity } }, caller);
  }
}
