import { Module } from '@nestjs/common';
import { PromotionEvidenceRepository } from './promotion-evidence.repository';
import { VerificationQueue } from './verification-queue';

/**
 * The producer side of continuous verification: the checks store the evidence (SBOM packages) it
 * re-judges, and imports and policy activations queue its runs.
 */
@Module({
  providers: [VerificationQueue, PromotionEvidenceRepository],
  exports: [VerificationQueue, PromotionEvidenceRepository],
})
export class VerificationQueueModule {}
