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
import { SecretScanCache1796616325688 } from './1796616325688-secret-scan-cache';

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
  SecretScanCache1796616325688,
];
