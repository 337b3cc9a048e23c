import { type CheckStatus, type PolicyDocument } from '../../domain';
import { type PromotionEntity } from '../promotion/promotion.entity';

export interface CheckContext {
  promotion: PromotionEntity;
  policy: PolicyDocument;
}

export interface CheckResult {
  status: CheckStatus;
  summary: string;
  findings: unknown[];
}

/**
 * One kind of verification the worker runs in the check stage (signatures, attestations, scans).
 * Implementations are provided under CHECK_KINDS; `applies` lets a kind skip policies that do not
 * ask for it. Must be safe to run twice.
 */
export interface CheckKind {
  readonly kind: string;
  applies(policy: PolicyDocument): boolean;
  run(ctx: CheckContext): Promise<CheckResult>;
}

export const CHECK_KINDS = Symbol('CHECK_KINDS');
