import { Module } from '@nestjs/common';
import { OciModule } from '../../oci/oci.module';
import { RegistryTokens } from './registry-tokens';
import { SourceRegistries } from './source-registries';

@Module({ imports: [OciModule], providers: [SourceRegistries, RegistryTokens], exports: [SourceRegistries] })
export class RegistryModule {}
