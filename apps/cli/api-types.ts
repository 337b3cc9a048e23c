// The shapes the CLI reads from the REST API, named from the types generated out of the OpenAPI
// document (api-schema.d.ts, by `npm run openapi`; a test fails when it is stale). Nothing here is
// written by hand: a field the API changes changes here, and the CLI's type check sees it.
import { type PromotionStatus } from '../../libs/domain/promotion-status';
import { type components } from './api-schema';

type Schemas = components['schemas'];

/**
 * The document spells statuses as their string values; the CLI names them with the domain's enum
 * (the same strings), so that its switches over statuses stay exhaustive.
 */
type WithStatus<T extends { status: string }> = Omit<T, 'status'> & { status: PromotionStatus };

/** RFC 9457 problem details as the API sends them (application/problem+json). */
export type Problem = Schemas['Problem'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type CheckView = Schemas['CheckView'];
export type ApprovalView = Schemas['ApprovalView'];
export type StatusChangeView = Omit<Schemas['StatusChangeView'], 'from' | 'to'> & {
  from?: PromotionStatus | null;
  to: PromotionStatus;
};
export type PromotionView = WithStatus<Schemas['PromotionView']>;
export type PromotionDetailView = Omit<WithStatus<Schemas['PromotionDetailView']>, 'history'> & {
  history: StatusChangeView[];
};
export type WhoAmIView = Schemas['WhoAmIView'];
export type EnvironmentView = Schemas['EnvironmentView'];
export type PolicyVersionView = Schemas['PolicyVersionView'];
export type ChangeView = Schemas['ChangeView'];
export type TagHistoryEntryView = Schemas['TagHistoryEntryView'];
export type PolicySectionDiffView = Schemas['PolicySectionDiffView'];
export type PolicyDiffView = Schemas['PolicyDiffView'];
export type PromotionEvaluationView = Schemas['PromotionEvaluationView'];
export type PolicyEvaluationView = Schemas['PolicyEvaluationView'];
export type WaiverView = Schemas['WaiverView'];
export type AdvisoryImportView = Schemas['AdvisoryImportView'];
export type DecisionView = Schemas['DecisionView'];
export type PublishedKeySetView = Schemas['PublishedKeySetView'];
export type DriftCheckView = Schemas['DriftCheckView'];
export type DriftView = Schemas['DriftView'];
export type VerificationView = Schemas['VerificationView'];
export type DriftFindingView = Schemas['DriftFindingView'];
