import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { IdentityLinkService } from './identity-link.service';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';
import { JwksClient } from './jwks.client';
import { TokenVerifier } from './token-verifier';

@Module({
  imports: [AuditModule],
  providers: [IdentityRepository, IdentityService, IdentityLinkService, JwksClient, TokenVerifier],
  exports: [IdentityService, IdentityLinkService, TokenVerifier],
})
export class IdentityModule {}
