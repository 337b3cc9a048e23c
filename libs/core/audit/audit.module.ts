import { Module } from '@nestjs/common';
import { TrustModule } from '../../trust/trust.module';
import { AuditCheckpointStore } from './audit-checkpoint.store';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  imports: [TrustModule],
  providers: [AuditRepository, AuditCheckpointStore, AuditService],
  exports: [AuditRepository, AuditService],
})
export class AuditModule {}
