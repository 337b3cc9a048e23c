import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { AuditModule } from '../audit/audit.module';
import { VerificationQueueModule } from '../verification/verification-queue.module';
import { AdvisoryImportService } from './advisory-import.service';
import { AdvisoryRepository } from './advisory.repository';

/** OSV advisories: imported by admins over the API, read by the vulnerability scan. */
@Module({
  imports: [AuditModule, JobsModule, VerificationQueueModule],
  providers: [AdvisoryRepository, AdvisoryImportService],
  exports: [AdvisoryRepository, AdvisoryImportService],
})
export class AdvisoryModule {}
