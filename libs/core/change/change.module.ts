import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EnvironmentModule } from '../environment/environment.module';
import { IdentityModule } from '../identity/identity.module';
import { ChangeRepository } from './change.repository';
import { ChangeService } from './change.service';

@Module({
  imports: [AuditModule, IdentityModule, EnvironmentModule],
  providers: [ChangeRepository, ChangeService],
  exports: [ChangeService],
})
export class ChangeModule {}
