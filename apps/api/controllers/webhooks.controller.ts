import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  type Caller,
  CreateWebhookDto,
  DisableWebhookDto,
  RotateSecretDto,
  Role,
  WebhookCreatedView,
  WebhookDeliveryView,
  WebhookSecretView,
  WebhookService,
  WebhookView,
} from '../../../libs/core';
import { CurrentCaller, Roles } from '../auth/auth.decorators';
import { ApiProblems } from '../http/api-problems.decorator';
import { pageOf } from '../http/response-views';
import { PageQuery } from './common';
import { uuidPipe } from './promotions.controller';

/**
 * Webhook subscriptions: global admins only (a subscription sends events out of Airlock), every
 * change audited. The secret is in the answer to create and rotate-secret, and nowhere else.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
@Roles([Role.Admin], 'global')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookService) {}

  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a webhook',
    description:
      'Creates a subscription to events (optionally for some environments), delivered signed as Standard Webhooks. The secret is in this answer only. Admin only; audited.',
  })
  @Post()
  @ApiCreatedResponse({ type: WebhookCreatedView, description: 'Created; the secret is shown only now' })
  @ApiProblems(400, 403, 422)
  create(@Body() dto: CreateWebhookDto, @CurrentCaller() caller: Caller): Promise<WebhookCreatedView> {
    return this.webhooks.create(dto, caller);
  }

  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'List webhook subscriptions',
    description: 'Subscriptions with their events, format and state (never their secret).',
  })
  @Get()
  @ApiOkResponse({ type: [WebhookView] })
  @ApiProblems(403)
  list(): Promise<WebhookView[]> {
    return this.webhooks.list();
  }

  @ApiOperation({
    operationId: 'getWebhook',
    summary: 'Get a webhook subscription',
    description: 'One subscription, its state and why it was disabled if it was.',
  })
  @Get(':id')
  @ApiOkResponse({ type: WebhookView })
  @ApiProblems(400, 403, 404)
  get(@Param('id', uuidPipe) id: string): Promise<WebhookView> {
    return this.webhooks.get(id);
  }

  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook subscription',
    description: 'Stops deliveries and removes the subscription. Audited.',
  })
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted: no more deliveries' })
  @ApiProblems(400, 403, 404)
  async remove(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<void> {
    await this.webhooks.remove(id, caller);
  }

  @ApiOperation({
    operationId: 'disableWebhook',
    summary: 'Disable a webhook subscription',
    description: 'Stops deliveries until enabled again. Audited.',
  })
  @Post(':id/disable')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookView })
  @ApiProblems(400, 403, 404)
  disable(
    @Param('id', uuidPipe) id: string,
    @Body() dto: DisableWebhookDto,
    @CurrentCaller() caller: Caller,
  ): Promise<WebhookView> {
    return this.webhooks.disable(id, dto.reason, caller);
  }

  @ApiOperation({
    operationId: 'enableWebhook',
    summary: 'Enable a webhook subscription',
    description: 'Resumes deliveries of a disabled subscription. Audited.',
  })
  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookView })
  @ApiProblems(400, 403, 404, 422)
  enable(@Param('id', uuidPipe) id: string, @CurrentCaller() caller: Caller): Promise<WebhookView> {
    return this.webhooks.enable(id, caller);
  }

  /** A new secret; the previous one keeps signing (a second signature) for the grace period. */
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate a webhook secret',
    description:
      'Issues a new secret (in this answer only); the old one stays valid for the grace period, and both signatures are sent meanwhile. Audited.',
  })
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookSecretView })
  @ApiProblems(400, 403, 404)
  rotate(
    @Param('id', uuidPipe) id: string,
    @Body() dto: RotateSecretDto,
    @CurrentCaller() caller: Caller,
  ): Promise<WebhookSecretView> {
    return this.webhooks.rotateSecret(id, dto.graceSeconds, caller);
  }

  /** Deliveries, newest first, each with every attempt (status, latency, the answer's first KiB). */
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: "List a subscription's deliveries",
    description: 'Every delivery with its attempts: status, latency and a bounded excerpt of the answer.',
  })
  @Get(':id/deliveries')
  @ApiOkResponse({ type: pageOf(WebhookDeliveryView, 'WebhookDeliveryPage') })
  @ApiProblems(400, 403, 404)
  deliveries(
    @Param('id', uuidPipe) id: string,
    @Query() q: PageQuery,
  ): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
    return this.webhooks.deliveries(id, q.cursor, q.limit ?? 50);
  }

  /** Sends a delivery again under the same webhook-id (a new round of retries). */
  @ApiOperation({
    operationId: 'resendWebhookDelivery',
    summary: 'Send a delivery again',
    description: 'Queues the delivery again with the same webhook-id, so receivers can de-duplicate.',
  })
  @Post(':id/deliveries/:deliveryId/resend')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Queued again, with the same webhook-id' })
  @ApiProblems(400, 403, 404, 409)
  async resend(
    @Param('id', uuidPipe) id: string,
    @Param('deliveryId', uuidPipe) deliveryId: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.webhooks.resend(id, deliveryId, caller);
  }
}
