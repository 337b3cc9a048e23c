import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../common/clock';
import { OpsModule } from '../ops/ops.module';
import { OutboundModule } from '../outbound/outbound.module';
import { WebhookClient } from './webhook.client';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookReconciler } from './webhook-reconciler.service';
import { WebhookRepository } from './webhook.repository';
import { WebhookService } from './webhook.service';

@Module({
  imports: [JobsModule, AuditModule, OutboundModule, OpsModule],
  providers: [
    WebhookRepository,
    WebhookService,
    WebhookDeliveryService,
    WebhookReconciler,
    WebhookClient,
    Clock,
  ],
  exports: [WebhookService, WebhookRepository, WebhookDeliveryService, WebhookReconciler],
})
export class WebhookModule {}
