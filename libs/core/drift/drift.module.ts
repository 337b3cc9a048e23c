import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AuditModule } from '../audit/audit.module';
import { WebhookModule } from '../webhook/webhook.module';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { RegistryModule } from '../registry/registry.module';
import { DriftRepository } from './drift.repository';
import { DriftService } from './drift.service';

/** Drift: the target registry against what Airlock promoted (API: request and read; worker: run). */
@Module({
  imports: [WebhookModule, AuditModule, EnvironmentModule, RegistryModule, JobsModule],
  providers: [DriftRepository, DriftService, Clock],
  exports: [DriftService],
})
export class DriftModule {}
