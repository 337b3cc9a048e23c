import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AdvisoryModule } from '../advisory/advisory.module';
import { AuditModule } from '../audit/audit.module';
import { WebhookModule } from '../webhook/webhook.module';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { VerificationRepository } from './verification.repository';
import { VerificationService } from './verification.service';

/** Continuous verification: the worker runs it, the API lists what it found. */
@Module({
  imports: [WebhookModule, AuditModule, AdvisoryModule, EnvironmentModule, JobsModule],
  providers: [VerificationRepository, VerificationService, Clock],
  exports: [VerificationService],
})
export class VerificationModule {}
