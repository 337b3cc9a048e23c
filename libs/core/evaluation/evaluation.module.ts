import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CheckModule } from '../check/check.module';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { GateModule } from '../gate/gate.module';
import { IdentityModule } from '../identity/identity.module';
import { PolicyModule } from '../policy/policy.module';
import { PromotionModule } from '../promotion/promotion.module';
import { PromotionEvaluationService } from './promotion-evaluation.service';

/** Dry runs and proposed-policy evaluations: the check stage's runners, nothing stored. */
@Module({
  imports: [
    AuditModule,
    CheckModule,
    EnvironmentModule,
    GateModule,
    IdentityModule,
    PolicyModule,
    PromotionModule,
  ],
  providers: [PromotionEvaluationService, Clock],
  exports: [PromotionEvaluationService],
})
export class EvaluationModule {}
