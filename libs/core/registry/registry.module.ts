import { Module } from '@nestjs/common';
import { OciModule } from '../../oci/oci.module';
import { SourceRegistries } from './source-registries';

@Module({ imports: [OciModule], providers: [SourceRegistries], exports: [SourceRegistries] })
export class RegistryModule {}
