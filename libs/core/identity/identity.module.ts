import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';
import { JwksClient } from './jwks.client';
import { TokenVerifier } from './token-verifier';

@Module({
  imports: [AuditModule],
  providers: [IdentityRepository, IdentityService, JwksClient, TokenVerifier],
  exports: [IdentityService, TokenVerifier],
})
export class IdentityModule {}
