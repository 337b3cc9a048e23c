import { PromotionEntity } from './promotion.entity';

/** The promotion's columns, named as the entity's properties, for hand-written reads and RETURNING. */
const COLUMNS = [
  'id',
  'seq',
  'environment_id AS "environmentId"',
  'policy_version_id AS "policyVersionId"',
  'policy_sha256 AS "policySha256"',
  'source_registry AS "sourceRegistry"',
  'source_repository AS "sourceRepository"',
  'digest',
  'tag',
  'target_registry AS "targetRegistry"',
  'target_repository AS "targetRepository"',
  'status',
  'requester',
  'requester_key AS "requesterKey"',
  'claims',
  'metadata',
  'token_issuer AS "tokenIssuer"',
  'token_jti AS "tokenJti"',
  'idempotency_key AS "idempotencyKey"',
  'request_hash AS "requestHash"',
  'attestation',
  'reasons',
  'break_glass AS "breakGlass"',
  'kind',
  'rollback_from_promotion_id AS "rollbackFromPromotionId"',
  'rollback_to_promotion_id AS "rollbackToPromotionId"',
  'waiting_for AS "waitingFor"',
  'waiting_until AS "waitingUntil"',
  'gate',
  'created_at AS "createdAt"',
  'updated_at AS "updatedAt"',
];

/** The columns of the promotion named `table` in the statement. */
export const promotionColumns = (table: string): string => COLUMNS.map((c) => `${table}.${c}`).join(', ');

/** The columns, for reads that name the promotion `p`. */
export const PROMOTION_COLUMNS = promotionColumns('p');

export type PromotionRow = Omit<PromotionEntity, 'environment' | 'policyVersion'>;

export const toPromotion = (r: PromotionRow): PromotionEntity => Object.assign(new PromotionEntity(), r);
