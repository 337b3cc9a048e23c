import { Module } from '@nestjs/common';
import { EnvironmentModule } from '../environment/environment.module';
import { PolicyModule } from '../policy/policy.module';
import { AttestationsCheck } from '../trust-checks/attestations.check';
import { SignaturesCheck } from '../trust-checks/signatures.check';
import { TrustChecksModule } from '../trust-checks/trust-checks.module';
import { PromotionModule } from '../promotion/promotion.module';
import { LicensesCheck } from '../scans/licenses.check';
import { ScansModule } from '../scans/scans.module';
import { SecretsCheck } from '../scans/secrets.check';
import { VulnerabilitiesCheck } from '../scans/vulnerabilities.check';
import { WaiverModule } from '../waiver/waiver.module';
import { CHECK_KINDS, type CheckKind } from './check-kind';
import { CheckRepository } from './check.repository';
import { CheckStageService } from './check-stage.service';
import { WebhookModule } from '../webhook/webhook.module';

/** The check kinds the stage runs, in this order (each skips policies that do not ask for it). */
@Module({
  imports: [
    PolicyModule,
    PromotionModule,
    EnvironmentModule,
    TrustChecksModule,
    ScansModule,
    WebhookModule,
    WaiverModule,
  ],
  providers: [
    CheckRepository,
    CheckStageService,
    {
      provide: CHECK_KINDS,
      inject: [SignaturesCheck, AttestationsCheck, SecretsCheck, VulnerabilitiesCheck, LicensesCheck],
      useFactory: (...kinds: CheckKind[]): CheckKind[] => kinds,
    },
  ],
  exports: [CheckStageService, CheckRepository, WaiverModule],
})
export class CheckModule {}
