import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { AttestationsCheck } from './attestations.check';
import { SignaturesCheck } from './signatures.check';
import { TrustEvidenceSource } from './trust-evidence.source';

@Module({
  imports: [RegistryModule],
  providers: [TrustEvidenceSource, SignaturesCheck, AttestationsCheck],
  exports: [SignaturesCheck, AttestationsCheck],
})
export class TrustChecksModule {}
