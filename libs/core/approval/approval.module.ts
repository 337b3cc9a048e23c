import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { IdentityModule } from '../identity/identity.module';
import { PolicyModule } from '../policy/policy.module';
import { PromotionModule } from '../promotion/promotion.module';
import { WebhookModule } from '../webhook/webhook.module';
import { WaiverModule } from '../waiver/waiver.module';
import { ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';

@Module({
  imports: [
    AuditModule,
    EnvironmentModule,
    IdentityModule,
    PolicyModule,
    PromotionModule,
    JobsModule,
    WebhookModule,
    WaiverModule,
  ],
  providers: [ApprovalRepository, ApprovalService, Clock],
  exports: [ApprovalService],
})
export class ApprovalModule {}
