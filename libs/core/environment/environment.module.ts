import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EnvironmentRepository } from './environment.repository';
import { EnvironmentService } from './environment.service';

@Module({
  imports: [AuditModule],
  providers: [EnvironmentRepository, EnvironmentService],
  exports: [EnvironmentService],
})
export class EnvironmentModule {}
