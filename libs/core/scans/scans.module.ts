import { Module } from '@nestjs/common';
import { AdvisoryModule } from '../advisory/advisory.module';
import { Clock } from '../common/clock';
import { RegistryModule } from '../registry/registry.module';
import { TrustModule } from '../../trust/trust.module';
import { TrustChecksModule } from '../trust-checks/trust-checks.module';
import { VerificationQueueModule } from '../verification/verification-queue.module';
import { LicensesCheck } from './licenses.check';
import { SbomSource } from './sbom.source';
import { SecretScanCacheRepository } from './secret-scan-cache.repository';
import { SecretsCheck } from './secrets.check';
import { VulnerabilitiesCheck } from './vulnerabilities.check';

/** What is inside the image: secrets in its layers, vulnerabilities and licenses in its SBOM. */
@Module({
  imports: [RegistryModule, TrustChecksModule, AdvisoryModule, TrustModule, VerificationQueueModule],
  providers: [
    Clock,
    SbomSource,
    SecretScanCacheRepository,
    SecretsCheck,
    VulnerabilitiesCheck,
    LicensesCheck,
  ],
  exports: [SecretsCheck, VulnerabilitiesCheck, LicensesCheck],
})
export class ScansModule {}
