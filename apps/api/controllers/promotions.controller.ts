import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import {
  CancelPromotionDto,
  type Caller,
  CreatePromotionDto,
  DomainError,
  ErrorCode,
  ListPromotionsQuery,
  PromotionDetailView,
  PromotionEvaluationService,
  PromotionEvaluationView,
  PromotionPage,
  PromotionService,
  PromotionView,
  Role,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { PROMOTION_DETAIL_EXAMPLE, PROMOTION_EXAMPLE } from '../http/examples';

const ANY_ROLE = [Role.Requester, Role.Approver, Role.Admin, Role.Auditor];
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
export const uuidPipe = new ParseUUIDPipe({
  exceptionFactory: () =>
    new DomainError(ErrorCode.ValidationFailed, 'id: must be a UUID', {
      errors: [{ field: 'id', message: 'must be a UUID' }],
    }),
});

@ApiTags('promotions')
@ApiBearerAuth()
@Controller('v1/promotions')
export class PromotionsController {
  constructor(
    private readonly promotions: PromotionService,
    private readonly evaluations: PromotionEvaluationService,
  ) {}

  /**
   * A dry run: what a request with this body would meet now (each check with its findings, the
   * approvals and who could give them, break-glass, conditions before the copy). The same
   * authorization as a request; nothing is created, only an audit event is written.
   */
  @ApiOperation({
    operationId: 'evaluatePromotion',
    summary: 'Dry run: what would happen to this request',
    description:
      "Takes the body of a promotion request and runs what the request would: the intake checks, the tag resolution and every check the active policy demands. Answers each check's result and findings, the approvals needed and from whom, and whether break-glass could apply. Creates nothing but one audit event; needs the same authorization as a request.",
  })
  @Post('evaluate')
  @HttpCode(200)
  @Roles([Role.Requester])
  @ApiOkResponse({ type: PromotionEvaluationView })
  @ApiProblems(400, 403, 404, 413, 415, 422, 429, 503)
  evaluate(
    @Body() dto: CreatePromotionDto,
    @CurrentCaller() caller: Caller,
  ): Promise<PromotionEvaluationView> {
    return this.evaluations.dryRun(dto, caller);
  }

  @ApiOperation({
    operationId: 'createPromotion',
    summary: 'Request a promotion',
    description:
      "Requests the promotion of an artifact into an environment. A tag is resolved and pinned to its digest at once. Requesters only (a CI job of the artifact's own repository). With an `Idempotency-Key`, the same request returns the same promotion (200) instead of creating another (201).",
  })
  @Post()
  @Roles([Role.Requester])
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and body return the same promotion',
  })
  @ApiCreatedResponse({
    type: PromotionView,
    description: 'Requested: the promotion, as `received` (its Location header names it)',
    example: PROMOTION_EXAMPLE,
  })
  @ApiOkResponse({
    type: PromotionView,
    description: 'An Idempotency-Key replay: the promotion created before',
    example: PROMOTION_EXAMPLE,
  })
  @ApiProblems(400, 403, 404, 409, 413, 415, 422)
  async create(
    @Body() dto: CreatePromotionDto,
    @CurrentCaller() caller: Caller,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PromotionView> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'Idempotency-Key: must be 1–255 printable ASCII characters',
        {
          errors: [{ field: 'Idempotency-Key', message: 'must be 1–255 printable ASCII characters' }],
        },
      );
    }
    const result = await this.promotions.request(dto, caller, idempotencyKey);
    void reply.status(result.created ? 201 : 200).header('location', `/v1/promotions/${result.promotion.id}`);
    return result.promotion;
  }

  @ApiOperation({
    operationId: 'listPromotions',
    summary: 'List promotions',
    description: 'Newest first, filtered by status, environment, requester or digest, paged with `cursor`.',
  })
  @Get()
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PromotionPage })
  @ApiProblems(400, 403)
  list(@Query() query: ListPromotionsQuery): Promise<PromotionPage> {
    return this.promotions.list(query);
  }

  @ApiOperation({
    operationId: 'getPromotion',
    summary: 'Get a promotion',
    description: 'Status, checks with their findings, approvals, history and the attestation once promoted.',
  })
  @Get(':id')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PromotionDetailView, example: PROMOTION_DETAIL_EXAMPLE })
  @ApiProblems(400, 403, 404)
  get(@Param('id', uuidPipe) id: string): Promise<PromotionDetailView> {
    return this.promotions.get(id);
  }

  /** Retries a failed promotion at the stage that failed, without new approvals. */
  @ApiOperation({
    operationId: 'retryPromotion',
    summary: 'Retry a failed promotion',
    description:
      'Returns a failed promotion to the stage that failed (the checks, or the copy) without new approvals.',
  })
  @Post(':id/retry')
  @HttpCode(200)
  @Roles([Role.Requester, Role.Admin])
  @ApiOkResponse({ type: PromotionDetailView })
  @ApiProblems(400, 403, 404, 409)
  retry(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<PromotionDetailView> {
    return this.promotions.retry(id, caller);
  }

  @ApiOperation({
    operationId: 'cancelPromotion',
    summary: 'Cancel a promotion',
    description: 'Withdraws a promotion that has not been promoted yet. The requester or an admin.',
  })
  @Post(':id/cancel')
  @HttpCode(200)
  @Roles([Role.Requester, Role.Admin])
  @ApiOkResponse({ type: PromotionDetailView })
  @ApiProblems(400, 403, 404, 409)
  cancel(
    @Param('id', uuidPipe) id: string,
    @Body() dto: CancelPromotionDto,
    @CurrentCaller() caller: Caller,
  ): Promise<PromotionDetailView> {
    return this.promotions.cancel(id, caller, dto.reason);
  }
}
