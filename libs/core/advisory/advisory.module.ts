import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AdvisoryImportService } from './advisory-import.service';
import { AdvisoryRepository } from './advisory.repository';

/** OSV advisories: imported by admins over the API, read by the vulnerability scan. */
@Module({
  imports: [AuditModule],
  providers: [AdvisoryRepository, AdvisoryImportService],
  exports: [AdvisoryRepository, AdvisoryImportService],
})
export class AdvisoryModule {}
