import { Module } from '@nestjs/common';
import { PolicyModule } from '../policy/policy.module';
import { PromotionModule } from '../promotion/promotion.module';
import { CHECK_KINDS, type CheckKind } from './check-kind';
import { CheckRepository } from './check.repository';
import { CheckStageService } from './check-stage.service';

/** Check kinds registered so far; later issues add signatures, attestations and scans. */
const kinds: CheckKind[] = [];

@Module({
  imports: [PolicyModule, PromotionModule],
  providers: [CheckRepository, CheckStageService, { provide: CHECK_KINDS, useValue: kinds }],
  exports: [CheckStageService],
})
export class CheckModule {}
