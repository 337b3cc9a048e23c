import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AuditModule } from '../audit/audit.module';
import { EnvironmentModule } from '../environment/environment.module';
import { VerificationQueueModule } from '../verification/verification-queue.module';
import { IdentityModule } from '../identity/identity.module';
import { WebhookModule } from '../webhook/webhook.module';
import { PolicyRepository } from './policy.repository';
import { PolicyService } from './policy.service';

@Module({
  imports: [
    AuditModule,
    EnvironmentModule,
    IdentityModule,
    JobsModule,
    VerificationQueueModule,
    WebhookModule,
  ],
  providers: [PolicyRepository, PolicyService],
  exports: [PolicyService],
})
export class PolicyModule {}
