import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { OutboundModule } from '../outbound/outbound.module';
import { IdentityLinkService } from './identity-link.service';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';
import { JwksClient } from './jwks.client';
import { OidcDiscovery } from './oidc-discovery';
import { TokenVerifier } from './token-verifier';

@Module({
  imports: [AuditModule, OutboundModule],
  providers: [
    IdentityRepository,
    IdentityService,
    IdentityLinkService,
    OidcDiscovery,
    JwksClient,
    TokenVerifier,
  ],
  exports: [IdentityService, IdentityLinkService, OidcDiscovery, TokenVerifier],
})
export class IdentityModule {}
