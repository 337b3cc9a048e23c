import { type PromotionEventFacts } from '../../domain';
import { type PromotionEntity } from '../promotion/promotion.entity';

/**
 * A promotion's event facts from the entity, for events written outside the state machine's
 * statement (which builds the same shape in SQL: webhook-event-sql.ts). `environment` is the name.
 */
export function promotionEventFacts(p: PromotionEntity): Omit<PromotionEventFacts, 'environment'> {
  return {
    id: p.id,
    environmentId: p.environmentId,
    sourceRegistry: p.sourceRegistry,
    sourceRepository: p.sourceRepository,
    digest: p.digest,
    tag: p.tag,
    targetRegistry: p.targetRegistry,
    targetRepository: p.targetRepository,
    status: p.status,
    reasons: p.reasons,
    breakGlass: p.breakGlass,
    requester: p.requester,
    attestation: p.attestation ? { reference: p.attestation.reference, digest: p.attestation.digest } : null,
  };
}
