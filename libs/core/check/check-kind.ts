import {
  type AppliedWaiver,
  type CheckStatus,
  type Failure,
  type PolicyDocument,
  type SourceRule,
} from '../../domain';
import { type PromotionEntity } from '../promotion/promotion.entity';

/**
 * What a check reads of the promotion: the image and the CI claims it was requested with. A dry
 * run (PromotionEvaluationService) checks an image no promotion exists for, so checks never see
 * more than this.
 */
/** What a check judges: a stored promotion (with its id), or a dry run's artifact (none: nothing is stored). */
export type CheckSubject = Pick<
  PromotionEntity,
  'sourceRegistry' | 'sourceRepository' | 'digest' | 'claims'
> & {
  id?: string;
};

export interface CheckContext {
  promotion: CheckSubject;
  policy: PolicyDocument;
  /** The environment's source rules: how to reach the promotion's source registry. */
  sources: readonly SourceRule[];
  /**
   * Shared by the check kinds of one stage run, so evidence fetched for one check (a registry's
   * signatures and attestations) is not fetched again by the next.
   */
  shared: Map<string, Promise<unknown>>;
}

export interface CheckResult {
  status: CheckStatus;
  summary: string;
  findings: unknown[];
  /** One line per blocking finding (what, where, how to fix), listed in a rejection's reasons. */
  blocking?: string[];
  /**
   * With `error`: what stopped the check. A permanent one (the image or its registry's copy is
   * malformed, hostile or over a limit) rejects the request at once; a transient one, or none,
   * retries the stage. A kind may instead throw a Failure: the stage classifies what is thrown.
   */
  failure?: Failure;
  /** Waivers that let this result (`waived`), or findings of it, pass. */
  waivers?: AppliedWaiver[];
}

/**
 * One kind of verification the worker runs in the check stage (signatures, attestations, scans).
 * Implementations are provided under CHECK_KINDS; `applies` lets a kind skip policies that do not
 * ask for it. Must be safe to run twice. What `run` throws is classified (classifyFailure):
 * a registry's digest mismatch rejects, its 503 retries.
 */
export interface CheckKind {
  readonly kind: string;
  applies(policy: PolicyDocument): boolean;
  run(ctx: CheckContext): Promise<CheckResult>;
}

export const CHECK_KINDS = Symbol('CHECK_KINDS');
