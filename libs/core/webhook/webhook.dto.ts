import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '../../domain';
import { ENVIRONMENT_NAME } from '../environment/environment.dto';
import { actorKey } from '../identity/actor';
import {
  type WebhookAttemptEntity,
  type WebhookDeliveryEntity,
  WebhookFormat,
  type WebhookSubscriptionEntity,
  webhookId,
} from './webhook.entity';

export class CreateWebhookDto {
  @ApiProperty({
    description:
      'Where deliveries are POSTed: an https URL on a host the operator allows (AIRLOCK_ALLOWED_HOSTS); ' +
      'no loopback, link-local or private address unless the operator allows them. Redirects are not followed.',
    example: 'https://hooks.example.com/airlock',
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, description: 'The event types to receive' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  eventTypes!: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Only events of these environments (by name); empty or absent: every environment',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  @Matches(ENVIRONMENT_NAME, { each: true, message: 'environments must be environment names' })
  environments?: string[];

  @ApiPropertyOptional({
    enum: WebhookFormat,
    description:
      '`standard`: the versioned JSON event; `chat`: a Slack-compatible message. Default standard.',
  })
  @IsOptional()
  @IsEnum(WebhookFormat)
  format?: WebhookFormat;

  @ApiPropertyOptional({ description: 'What this subscription is for' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class DisableWebhookDto {
  @ApiPropertyOptional({ description: 'Why (kept with the subscription and in the audit trail)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RotateSecretDto {
  @ApiPropertyOptional({
    description: 'How long the previous secret keeps signing too (seconds, 0–604800; default 86400)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 86_400)
  graceSeconds?: number;
}

export class WebhookView {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) eventTypes!: string[];
  @ApiProperty({ type: [String], description: 'Empty: every environment' }) environments!: string[];
  @ApiProperty({ enum: WebhookFormat }) format!: WebhookFormat;
  @ApiPropertyOptional({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why it is disabled' })
  disabledReason!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) disabledAt!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'First failed attempt since the last success',
  })
  failingSince!: string | null;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Until when the previous secret also signs (after a rotation)',
  })
  previousSecretExpiresAt!: string | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;

  static of(s: WebhookSubscriptionEntity): WebhookView {
    const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
    return {
      id: s.id,
      url: s.url,
      eventTypes: s.eventTypes,
      environments: s.environments,
      format: s.format,
      description: s.description,
      enabled: s.enabled,
      disabledReason: s.disabledReason,
      disabledAt: iso(s.disabledAt),
      failingSince: iso(s.failingSince),
      previousSecretExpiresAt: iso(s.previousSecretExpiresAt),
      createdBy: actorKey(s.createdBy),
      createdAt: new Date(s.createdAt).toISOString(),
    };
  }
}

export class WebhookCreatedView extends WebhookView {
  @ApiProperty({
    description:
      'The signing secret (`whsec_` + base64, Standard Webhooks). Shown only now: store it with the receiver.',
  })
  secret!: string;
}

export class WebhookSecretView {
  @ApiProperty({ description: 'The new signing secret, shown only now' }) secret!: string;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Until when deliveries also carry a signature by the previous secret',
  })
  previousSecretExpiresAt!: string | null;
}

export class WebhookAttemptView {
  @ApiProperty() attemptedAt!: string;
  @ApiProperty({ enum: ['delivered', 'http_error', 'redirect', 'timeout', 'network_error', 'refused'] })
  outcome!: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty() latencyMs!: number;
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'The first KiB of the answer, or the error',
  })
  excerpt!: string | null;

  static of(
    a: Pick<WebhookAttemptEntity, 'attemptedAt' | 'outcome' | 'statusCode' | 'latencyMs' | 'excerpt'>,
  ): WebhookAttemptView {
    return {
      attemptedAt: new Date(a.attemptedAt).toISOString(),
      outcome: a.outcome,
      statusCode: a.statusCode,
      latencyMs: a.latencyMs,
      excerpt: a.excerpt,
    };
  }
}

export class WebhookDeliveryView {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The webhook-id header: the same on every attempt and re-send' })
  webhookId!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() resends!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) deliveredAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: [WebhookAttemptView] }) attemptList!: WebhookAttemptView[];

  static of(
    d: WebhookDeliveryEntity & { eventType: string; attemptList: WebhookAttemptEntity[] },
  ): WebhookDeliveryView {
    return {
      id: d.id,
      webhookId: webhookId(d.id),
      eventId: String(d.eventId),
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      resends: d.resends,
      deliveredAt: d.deliveredAt ? new Date(d.deliveredAt).toISOString() : null,
      createdAt: new Date(d.createdAt).toISOString(),
      attemptList: d.attemptList.map((a) => WebhookAttemptView.of(a)),
    };
  }
}
