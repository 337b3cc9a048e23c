import { AdvisoryEntity, AdvisoryImportEntity, AdvisoryPackageEntity } from '../advisory/advisory.entity';
import { ApprovalEntity } from '../approval/approval.entity';
import { BreakGlassReviewEntity } from '../approval/break-glass-review.entity';
import { IdentityLinkEntity } from '../identity/identity-link.entity';
import { AuditEventEntity, AuditPendingEntity } from '../audit/audit-event.entity';
import { AuditVerificationEntity } from '../audit/audit-verification.entity';
import { ProposedChangeEntity } from '../change/change.entity';
import { CheckEntity } from '../check/check.entity';
import { DriftCheckEntity, DriftFindingEntity } from '../drift/drift.entity';
import {
  PromotionPackageEntity,
  VerificationFindingEntity,
  VerificationRunEntity,
} from '../verification/verification.entity';
import { EnvironmentEntity } from '../environment/environment.entity';
import { RoleBindingEntity } from '../identity/role-binding.entity';
import { TrustedIssuerEntity } from '../identity/trusted-issuer.entity';
import { OutboxEntity } from '../outbox/outbox.entity';
import { PolicyVersionEntity } from '../policy/policy-version.entity';
import { IdempotencyKeyEntity } from '../promotion/idempotency-key.entity';
import { PromotionStatusChangeEntity } from '../promotion/promotion-status-change.entity';
import { PromotionEntity } from '../promotion/promotion.entity';
import {
  WebhookAttemptEntity,
  WebhookDeliveryEntity,
  WebhookEventEntity,
  WebhookSubscriptionEntity,
} from '../webhook/webhook.entity';
import { WaiverEntity } from '../waiver/waiver.entity';
import { SecretScanLayerEntity } from '../scans/secret-scan-cache.entity';

export const ENTITIES = [
  EnvironmentEntity,
  PolicyVersionEntity,
  PromotionEntity,
  PromotionStatusChangeEntity,
  IdempotencyKeyEntity,
  CheckEntity,
  ApprovalEntity,
  OutboxEntity,
  AuditPendingEntity,
  AuditEventEntity,
  AuditVerificationEntity,
  TrustedIssuerEntity,
  RoleBindingEntity,
  IdentityLinkEntity,
  BreakGlassReviewEntity,
  AdvisoryImportEntity,
  AdvisoryEntity,
  AdvisoryPackageEntity,
  ProposedChangeEntity,
  WebhookSubscriptionEntity,
  WebhookEventEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
  WaiverEntity,
  DriftCheckEntity,
  DriftFindingEntity,
  PromotionPackageEntity,
  VerificationRunEntity,
  VerificationFindingEntity,
  SecretScanLayerEntity,
];
