import { Module } from '@nestjs/common';
import { TrustModule } from '../../trust/trust.module';
import { AuditCheckpointStore } from './audit-checkpoint.store';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { AuditVerificationRepository } from './audit-verification.repository';
import { AuditVerificationService } from './audit-verification.service';
import { JobsModule } from '../../jobs';

@Module({
  imports: [TrustModule, JobsModule],
  providers: [
    AuditRepository,
    AuditCheckpointStore,
    AuditService,
    AuditVerificationRepository,
    AuditVerificationService,
  ],
  exports: [AuditRepository, AuditService, AuditVerificationService],
})
export class AuditModule {}
