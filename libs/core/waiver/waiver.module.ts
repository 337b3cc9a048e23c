import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { IdentityModule } from '../identity/identity.module';
import { PolicyModule } from '../policy/policy.module';
import { WebhookModule } from '../webhook/webhook.module';
import { WaiverRepository } from './waiver.repository';
import { WaiverService } from './waiver.service';

@Module({
  imports: [AuditModule, EnvironmentModule, IdentityModule, PolicyModule, WebhookModule],
  providers: [WaiverRepository, WaiverService, Clock],
  exports: [WaiverService],
})
export class WaiverModule {}
