// The shapes the CLI reads from the REST API. Declared here rather than imported from libs/core so
// that the CLI stays a thin client with no Nest/TypeORM in its dependency graph; they mirror
// libs/core/**/*.dto.ts (the views) and apps/api/http/problem.ts (errors).
import { type PromotionStatus } from '../../libs/domain/promotion-status';

/** RFC 9457 problem details as the API sends them (application/problem+json). */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
  details?: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CheckView {
  kind: string;
  status: 'pass' | 'fail' | 'error';
  summary: string;
  findings: unknown[];
  attempts: number;
  finishedAt: string;
}

export interface ApprovalView {
  decision: 'approve' | 'reject';
  approver: string;
  comment: string;
  digest: string;
  policySha256: string;
  at: string;
}

export interface StatusChangeView {
  from: PromotionStatus | null;
  to: PromotionStatus;
  actor: string;
  reason: string;
  at: string;
}

export interface PromotionView {
  id: string;
  status: PromotionStatus;
  artifact: string;
  digest: string;
  environment: string;
  target: string;
  policyVersion: number;
  policySha256: string;
  requester: string;
  metadata: Record<string, string>;
  reasons: string[];
  createdAt: string;
  updatedAt: string;
}

export interface PromotionDetailView extends PromotionView {
  checks?: CheckView[];
  approvals?: ApprovalView[];
  history?: StatusChangeView[];
}

export interface WhoAmIView {
  identity: string;
  kind: string;
  groups: string[];
  roles: Array<{ role: string; environment: string | null }>;
  claims: Record<string, unknown>;
}

export interface EnvironmentView {
  id: string;
  name: string;
  description: string;
  sources: Array<{ registry: string; repositories: string[] }>;
  target: { registry: string; repository: string };
  activePolicyVersion: number | null;
  createdAt: string;
}

export interface PolicyVersionView {
  id: string;
  environment: string;
  version: number;
  document: unknown;
  sha256: string;
  comment: string;
  createdBy: string;
  createdAt: string;
  active: boolean;
  activatedBy: string | null;
  activatedAt: string | null;
  /** A version that is not active: what activating it would change against the active one. */
  changesFromActive?: PolicySectionDiffView[];
}

/** A proposed change to who is trusted (libs/core/change/change.dto.ts ChangeView). */
export interface ChangeView {
  id: string;
  kind: string;
  status: 'proposed' | 'applied' | 'rejected' | 'withdrawn' | 'failed';
  summary: string;
  payload: Record<string, unknown>;
  proposedBy: string;
  createdAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string | null;
  result: Record<string, unknown> | null;
}

/** One section's changes between two policy versions (libs/core/policy/policy.dto.ts). */
export interface PolicySectionDiffView {
  section: string;
  change: 'added' | 'removed' | 'changed';
  lines: string[];
}

export interface PolicyDiffView {
  environment: string;
  from: number;
  to: number;
  fromSha256: string;
  toSha256: string;
  toActive: boolean;
  sections: PolicySectionDiffView[];
}

/** A dry run's answer (libs/core/evaluation/evaluation.dto.ts PromotionEvaluationView). */
export interface PromotionEvaluationView {
  environment: string;
  artifact: string;
  digest: string;
  tag: string | null;
  policyVersion: number;
  policySha256: string;
  decision: 'approved' | 'awaiting_approval' | 'rejected' | 'undetermined';
  reasons: string[];
  checks: Array<{
    kind: string;
    status: string;
    summary: string;
    findings: unknown[];
    blocking: string[];
    waivers?: string[];
  }>;
  approvals: {
    required: number;
    rules: Array<{ name: string; required: number; groups: string[] | null }>;
    approvers: string[];
    excluded: string[];
  };
  breakGlass: { couldApply: boolean; reason: string; holders: string[] };
  conditions: Array<{ kind: string; state: string; detail: string; until?: string | null }>;
}

export interface PolicyEvaluationView {
  environment: string;
  policyVersion: number;
  policySha256: string;
  summary: string;
  evaluated: number;
  wouldReject: number;
  newlyRejected: number;
  wouldAwaitApproval: number;
  wouldApprove: number;
  undetermined: number;
  promotions: Array<{
    promotionId: string;
    artifact: string;
    status: string;
    verdict: string;
    reasons: string[];
  }>;
  evaluation?: PromotionEvaluationView;
}

/** An exception to an environment's policy (libs/core/waiver/waiver.dto.ts). */
export interface WaiverView {
  id: string;
  environment: string;
  check: string;
  finding: string | null;
  digest: string | null;
  repositoryPattern: string | null;
  reason: string;
  expiresAt: string;
  status: 'requested' | 'granted' | 'revoked';
  state: 'requested' | 'active' | 'expired' | 'revoked';
  requestedBy: string;
  createdAt: string;
  grantedBy: string | null;
  grantedAt: string | null;
  revokedBy: string | null;
  revokedAt: string | null;
  revokeReason: string | null;
}
