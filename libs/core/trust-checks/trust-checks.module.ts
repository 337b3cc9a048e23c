import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { AttestationsCheck } from './attestations.check';
import { SignaturesCheck } from './signatures.check';
import { TrustEvidenceSource } from './trust-evidence.source';
import { VerifiedAttestationsSource } from './verified-attestations.source';

@Module({
  imports: [RegistryModule],
  providers: [TrustEvidenceSource, VerifiedAttestationsSource, SignaturesCheck, AttestationsCheck],
  exports: [SignaturesCheck, AttestationsCheck, VerifiedAttestationsSource],
})
export class TrustChecksModule {}
