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
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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

  @Post()
  @Roles([Role.Requester])
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and body return the same promotion',
  })
  @ApiOkResponse({
    type: PromotionView,
    description: 'An Idempotency-Key replay: the promotion created before',
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

  @Get()
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PromotionPage })
  @ApiProblems(400, 403)
  list(@Query() query: ListPromotionsQuery): Promise<PromotionPage> {
    return this.promotions.list(query);
  }

  @Get(':id')
  @Roles(ANY_ROLE)
  @ApiOkResponse({ type: PromotionDetailView })
  @ApiProblems(400, 403, 404)
  get(@Param('id', uuidPipe) id: string): Promise<PromotionDetailView> {
    return this.promotions.get(id);
  }

  /** Retries a failed promotion at the stage that failed, without new approvals. */
  @Post(':id/retry')
  @HttpCode(200)
  @Roles([Role.Requester, Role.Admin])
  @ApiOkResponse({ type: PromotionDetailView })
  @ApiProblems(400, 403, 404, 409)
  retry(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<PromotionDetailView> {
    return this.promotions.retry(id, caller);
  }

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
