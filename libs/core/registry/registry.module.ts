import { Module } from '@nestjs/common';
import { OciModule } from '../../oci/oci.module';
import { IdentityModule } from '../identity/identity.module';
import { OutboundModule } from '../outbound/outbound.module';
import { SecretsModule } from '../secrets/secrets.module';
import { RegistryTokens } from './registry-tokens';
import { SourceRegistries } from './source-registries';

@Module({
  imports: [OciModule, IdentityModule, OutboundModule, SecretsModule],
  providers: [SourceRegistries, RegistryTokens],
  exports: [SourceRegistries],
})
export class RegistryModule {}
