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
  /** While waiting: what for (the soak in the upstream, a freeze window) and until when. */
  waitingFor?: 'soak' | 'freeze' | null;
  waitingUntil?: string | null;
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
