import { InitialSchema1795305861432 } from './1795305861432-initial-schema';
import { AuditGuarantees1795305861500 } from './1795305861500-audit-guarantees';
import { Approvals1795307187512 } from './1795307187512-approvals';
import { WakeAfterCommit1795310000000 } from './1795310000000-wake-after-commit';
import { PromotionAttestation1795309471436 } from './1795309471436-promotion-attestation';
import { Advisories1795315392808 } from './1795315392808-advisories';
import { NamedSecrets1795400000000 } from './1795400000000-named-secrets';
import { ProposedChanges1795410000000 } from './1795410000000-proposed-changes';
import { IdentityScope1795420000000 } from './1795420000000-identity-scope';
import { BreakGlassFlag1795490000000 } from './1795490000000-break-glass-flag';
import { Rollback1796614449964 } from './1796614449964-rollback';
import { EnvironmentChains1796614542875 } from './1796614542875-environment-chains';
import { Webhooks1796614514477 } from './1796614514477-webhooks';
import { Waivers1796614880559 } from './1796614880559-waivers';
import { DriftChecks1796614785239 } from './1796614785239-drift-checks';
import { ContinuousVerification1796615533044 } from './1796615533044-continuous-verification';
import { AuditVerifications1796614550531 } from './1796614550531-audit-verifications';
import { SecretScanCache1796616325688 } from './1796616325688-secret-scan-cache';
import { WaiverExpiry1796619458286 } from './1796619458286-waiver-expiry';
import { PromotionFillfactor1796620000000 } from './1796620000000-promotion-fillfactor';

/** Every migration, in order. New ones are generated, reviewed, appended here, and never edited. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration classes
export const MIGRATIONS: Function[] = [
  InitialSchema1795305861432,
  AuditGuarantees1795305861500,
  Approvals1795307187512,
  PromotionAttestation1795309471436,
  WakeAfterCommit1795310000000,
  Advisories1795315392808,
  NamedSecrets1795400000000,
  ProposedChanges1795410000000,
  IdentityScope1795420000000,
  BreakGlassFlag1795490000000,
  Rollback1796614449964,
  EnvironmentChains1796614542875,
  Webhooks1796614514477,
  Waivers1796614880559,
  DriftChecks1796614785239,
  ContinuousVerification1796615533044,
  AuditVerifications1796614550531,
  SecretScanCache1796616325688,
  WaiverExpiry1796619458286,
  PromotionFillfactor1796620000000,
];
