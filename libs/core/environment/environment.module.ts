import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IdentityModule } from '../identity/identity.module';
import { OutboundModule } from '../outbound/outbound.module';
import { SecretsModule } from '../secrets/secrets.module';
import { EnvironmentRepository } from './environment.repository';
import { EnvironmentService } from './environment.service';

@Module({
  imports: [AuditModule, IdentityModule, OutboundModule, SecretsModule],
  providers: [EnvironmentRepository, EnvironmentService],
  exports: [EnvironmentService, EnvironmentRepository],
})
export class EnvironmentModule {}
