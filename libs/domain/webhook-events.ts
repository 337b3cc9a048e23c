import { approvalRequirements, type ApprovalsSection } from './approval-rules';
import { PromotionStatus as S } from './promotion-status';

/**
 * The events Airlock tells subscribers about (signed webhooks, Standard Webhooks format). Every
 * event type is one row of WEBHOOK_EVENTS: what produces it and how its payload is built. Adding
 * an event is adding a row (and, for one no transition produces, a call where it happens).
 */
export enum WebhookEventType {
  PromotionRequested = 'promotion.requested',
  ChecksPassed = 'promotion.checks_passed',
  AwaitingApproval = 'promotion.awaiting_approval',
  Approved = 'promotion.approved',
  Rejected = 'promotion.rejected',
  Promoting = 'promotion.promoting',
  Promoted = 'promotion.promoted',
  Failed = 'promotion.failed',
  Cancelled = 'promotion.cancelled',
  Expired = 'promotion.expired',
  BreakGlassUsed = 'break_glass.used',
  BreakGlassSignedOff = 'break_glass.signed_off',
  PolicyProposed = 'policy.proposed',
  PolicyActivated = 'policy.activated',
  SecretFound = 'secret.found',
  Waiting = 'promotion.waiting',
  WaiverGranted = 'waiver.granted',
  WaiverRevoked = 'waiver.revoked',
  WaiverExpired = 'waiver.expired',
  DriftFound = 'drift.found',
  VerificationAffected = 'verification.affected',
}

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.values(WebhookEventType);

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** The payload format's version: bumped only for a change a receiver could trip over. */
export const WEBHOOK_PAYLOAD_VERSION = 1;

/** Who did it, as the audit trail records it. */
export interface EventActor {
  kind: string;
  issuer: string;
  subject: string;
}

/** The promotion as the transition left it (what the state machine's statement captured). */
export interface PromotionEventFacts {
  id: string;
  environmentId: string;
  environment: string;
  sourceRegistry: string;
  sourceRepository: string;
  digest: string;
  tag: string | null;
  targetRegistry: string;
  targetRepository: string;
  status: string;
  reasons: string[];
  breakGlass: boolean;
  requester: EventActor;
  attestation: { reference: string; digest: string } | null;
}

/**
 * What an event row holds, captured in the statement or transaction that produced it: the
 * promotion and transition for promotion events, `details` for the others. Never a secret.
 */
export interface EventFacts {
  actor: EventActor;
  promotion?: PromotionEventFacts;
  transition?: { from: string | null; to: string; reason: string };
  /** The pinned policy's approvals section (who may approve), for awaiting_approval. */
  approvals?: ApprovalsSection | null;
  /** Event-specific facts of events no transition produces. */
  details?: Record<string, unknown>;
}

/** Which promotion transitions produce an event: `to` and optionally `from` and the break-glass flag. */
export interface TransitionMatch {
  to: readonly S[];
  from?: ReadonlyArray<S | null>;
  breakGlass?: boolean;
}

/** Links back to the API, from its base URL (empty: paths only). */
export type ApiLink = (path: string) => string;

export interface WebhookEventSpec {
  /**
   * What produces the event: a promotion transition (the state machine writes it in the
   * transition's statement), or the audit action of the service that writes it in its transaction.
   */
  source: { transition: TransitionMatch } | { action: string };
  /** The documentation line (OpenAPI webhooks section). */
  description: string;
  /** One line for chat messages. */
  summary: (f: EventFacts) => string;
  /** The event's `data`, small: identifiers, states, reasons and links; never a secret or token. */
  data: (f: EventFacts, link: ApiLink) => Record<string, unknown>;
}

const artifactOf = (p: PromotionEventFacts): string =>
  `${p.sourceRegistry}/${p.sourceRepository}${p.tag ? `:${p.tag}` : ''}@${p.digest}`;

/** The promotion part every promotion event carries. */
function promotionData(f: EventFacts, link: ApiLink): Record<string, unknown> {
  const p = f.promotion as PromotionEventFacts;
  return {
    promotion: {
      id: p.id,
      status: p.status,
      environment: p.environment,
      artifact: artifactOf(p),
      digest: p.digest,
      target: `${p.targetRegistry}/${p.targetRepository}`,
      requester: p.requester.subject,
      breakGlass: p.breakGlass,
    },
    actor: f.actor,
    links: { promotion: link(`/v1/promotions/${p.id}`) },
  };
}

const short = (f: EventFacts): string => {
  const p = f.promotion as PromotionEventFacts;
  return `${p.sourceRepository}@${p.digest.slice(0, 19)} → ${p.environment}`;
};

const promotionEvent = (
  description: string,
  transition: TransitionMatch,
  verb: string,
  extra: (f: EventFacts, link: ApiLink) => Record<string, unknown> = () => ({}),
): WebhookEventSpec => ({
  source: { transition },
  description,
  summary: (f) => `Promotion ${verb}: ${short(f)}`,
  data: (f, link) => ({ ...promotionData(f, link), ...extra(f, link) }),
});

const reasons = (f: EventFacts): { reasons: string[] } => ({ reasons: f.promotion?.reasons ?? [] });
const detail = (f: EventFacts, key: string): unknown => f.details?.[key];

/** A waiver's decision (its audit action `waiver.<verb>`): what it lets pass, where, until when. */
const waiverEvent = (description: string, verb: 'granted' | 'revoked' | 'expired'): WebhookEventSpec => ({
  source: { action: `waiver.${verb}` },
  description,
  summary: (f) =>
    `Waiver ${verb} in ${String(detail(f, 'environment'))} by ${f.actor.subject}: ${String(detail(f, 'finding') ?? detail(f, 'check'))}`,
  data: (f, link) => ({
    waiver: {
      id: detail(f, 'waiverId'),
      environment: detail(f, 'environment'),
      check: detail(f, 'check'),
      finding: detail(f, 'finding'),
      digest: detail(f, 'digest'),
      repositoryPattern: detail(f, 'repositoryPattern'),
      expiresAt: detail(f, 'expiresAt'),
      reason: detail(f, 'reason'),
    },
    actor: f.actor,
    links: { waivers: link(`/v1/environments/${String(detail(f, 'environment'))}/waivers`) },
  }),
});

/** Every event type: what produces it and what it carries. */
export const WEBHOOK_EVENTS: Readonly<Record<WebhookEventType, WebhookEventSpec>> = {
  [WebhookEventType.PromotionRequested]: promotionEvent(
    'A promotion was requested (accepted at intake).',
    { to: [S.Received], from: [null] },
    'requested',
  ),
  [WebhookEventType.ChecksPassed]: promotionEvent(
    'Every check the pinned policy asks for passed.',
    { to: [S.AwaitingApproval, S.Approved], from: [S.Checking] },
    'passed its checks',
  ),
  [WebhookEventType.AwaitingApproval]: promotionEvent(
    'Checks passed; the promotion waits for approvals. Says who may approve.',
    { to: [S.AwaitingApproval] },
    'awaits approval',
    (f, link) => ({
      mayApprove: whoMayApprove(f),
      links: {
        promotion: link(`/v1/promotions/${f.promotion?.id ?? ''}`),
        approve: link(`/v1/promotions/${f.promotion?.id ?? ''}/approvals`),
        pending: link('/v1/approvals/pending'),
      },
    }),
  ),
  [WebhookEventType.Approved]: promotionEvent(
    'Every requirement is met (approvals, or none needed, or break-glass); the copy starts.',
    { to: [S.Approved], from: [S.Checking, S.AwaitingApproval] },
    'approved',
  ),
  [WebhookEventType.Rejected]: promotionEvent(
    'A check failed or an approver rejected; lists every reason.',
    { to: [S.Rejected] },
    'rejected',
    reasons,
  ),
  [WebhookEventType.Promoting]: promotionEvent(
    'The promoter is copying the artifact to the target registry.',
    { to: [S.Promoting] },
    'copying',
  ),
  [WebhookEventType.Promoted]: promotionEvent(
    'The artifact is in the target registry, with Airlock’s signed attestation.',
    { to: [S.Promoted] },
    'promoted',
    (f) => ({
      targetDigest: f.promotion?.digest,
      attestation: f.promotion?.attestation
        ? { reference: f.promotion.attestation.reference, digest: f.promotion.attestation.digest }
        : null,
    }),
  ),
  [WebhookEventType.Failed]: promotionEvent(
    'A check could not run or the copy failed after its retries; it may be retried.',
    { to: [S.Failed] },
    'failed',
    reasons,
  ),
  [WebhookEventType.Cancelled]: promotionEvent(
    'The requester or an admin withdrew the promotion.',
    { to: [S.Cancelled] },
    'cancelled',
    (f) => ({ reason: f.transition?.reason }),
  ),
  [WebhookEventType.Expired]: promotionEvent(
    'Nobody decided before the policy’s pending timeout.',
    { to: [S.Expired] },
    'expired',
  ),
  [WebhookEventType.BreakGlassUsed]: promotionEvent(
    'Someone approved without the approvals (break-glass); a review follows.',
    { to: [S.Approved], breakGlass: true },
    'approved by BREAK-GLASS',
    (f, link) => ({
      reason: f.transition?.reason,
      links: {
        promotion: link(`/v1/promotions/${f.promotion?.id ?? ''}`),
        reviews: link('/v1/break-glass-reviews'),
      },
    }),
  ),
  [WebhookEventType.BreakGlassSignedOff]: {
    source: { action: 'break_glass.signed_off' },
    description: 'The follow-up review of a break-glass was signed off.',
    summary: (f) => `Break-glass review signed off by ${f.actor.subject}`,
    data: (f, link) => ({
      review: { id: detail(f, 'reviewId'), promotionId: detail(f, 'promotionId') },
      environment: detail(f, 'environment'),
      actor: f.actor,
      links: {
        promotion: link(`/v1/promotions/${String(detail(f, 'promotionId'))}`),
        reviews: link('/v1/break-glass-reviews'),
      },
    }),
  },
  [WebhookEventType.PolicyProposed]: {
    source: { action: 'policy.version_added' },
    description: 'A new policy version was added to an environment; a second admin may activate it.',
    summary: (f) =>
      `Policy v${String(detail(f, 'version'))} proposed for ${String(detail(f, 'environment'))}`,
    data: (f, link) => policyData(f, link),
  },
  [WebhookEventType.PolicyActivated]: {
    source: { action: 'policy.activated' },
    description: 'A policy version became the active one of an environment.',
    summary: (f) =>
      `Policy v${String(detail(f, 'version'))} activated for ${String(detail(f, 'environment'))}`,
    data: (f, link) => policyData(f, link),
  },
  [WebhookEventType.Waiting]: promotionEvent(
    'Approved, but held before the copy: a soak not yet over, or a freeze window. It proceeds by itself.',
    { to: [S.Waiting] },
    'waits',
    (f) => ({ reason: f.transition?.reason }),
  ),
  [WebhookEventType.WaiverGranted]: waiverEvent(
    'A waiver was granted: one check or finding may pass until it expires.',
    'granted',
  ),
  [WebhookEventType.WaiverRevoked]: waiverEvent(
    'A waiver was revoked: it no longer lets anything pass.',
    'revoked',
  ),
  [WebhookEventType.WaiverExpired]: waiverEvent(
    'A granted waiver reached its expiry: it no longer lets anything pass in promotions not yet approved.',
    'expired',
  ),
  [WebhookEventType.DriftFound]: {
    source: { action: 'drift.detected' },
    description:
      'A drift check found the target registry differs from what Airlock promoted (a tag moved, a tag it never wrote, a digest gone).',
    summary: (f) => `Drift in ${String(detail(f, 'environment'))}: ${String(detail(f, 'summary'))}`,
    data: (f, link) => ({
      environment: detail(f, 'environment'),
      check: detail(f, 'check'),
      summary: detail(f, 'summary'),
      byKind: detail(f, 'byKind'),
      findings: detail(f, 'findings'),
      links: { drift: link(`/v1/environments/${String(detail(f, 'environment'))}/drift`) },
    }),
  },
  [WebhookEventType.VerificationAffected]: {
    source: { action: 'verification.affected' },
    description:
      'Continuous verification found digests promoted in an environment newly affected by advisories (after an import or a policy activation).',
    summary: (f) =>
      `${String(detail(f, 'newlyAffectingAdvisories'))} advisories now affect what is promoted in ${String(detail(f, 'environment'))}`,
    data: (f, link) => ({
      environment: detail(f, 'environment'),
      run: detail(f, 'run'),
      trigger: detail(f, 'trigger'),
      newlyAffectingAdvisories: detail(f, 'newlyAffectingAdvisories'),
      advisories: detail(f, 'advisories'),
      links: { verification: link(`/v1/environments/${String(detail(f, 'environment'))}/verification`) },
    }),
  },
  [WebhookEventType.SecretFound]: {
    source: { action: 'check.secrets_found' },
    description: 'The secret scan found secrets in an image (rule ids and counts only, never the secret).',
    summary: (f) =>
      `Secrets found (${String(detail(f, 'findings'))}) in ${f.promotion ? short(f) : 'an image'}`,
    data: (f, link) => ({
      ...promotionData(f, link),
      findings: detail(f, 'findings'),
      rules: detail(f, 'rules'),
    }),
  },
};

function policyData(f: EventFacts, link: ApiLink): Record<string, unknown> {
  const env = String(detail(f, 'environment'));
  const version = Number(detail(f, 'version'));
  return {
    policy: { environment: env, version, sha256: detail(f, 'sha256') },
    actor: f.actor,
    links: { policy: link(`/v1/environments/${env}/policies/${version}`) },
  };
}

/** Who may approve, from the pinned policy: holders of the approver role, per rule and group. */
export function whoMayApprove(f: EventFacts): Record<string, unknown> {
  const section = f.approvals;
  const environment = f.promotion?.environment;
  if (!section) return { role: 'approver', environment, rules: [] };
  const req = approvalRequirements(section);
  return {
    role: 'approver',
    environment,
    rules: req.rules.map((r) => ({ name: r.name, required: r.required, groups: r.groups ?? [] })),
  };
}

/**
 * The events a promotion transition produces (the state machine writes one row per type in the
 * transition's statement). `from` is null at creation.
 */
export function eventsOfTransition(from: S | null, to: S, breakGlass = false): WebhookEventType[] {
  const out: WebhookEventType[] = [];
  for (const type of WEBHOOK_EVENT_TYPES) {
    const source = WEBHOOK_EVENTS[type].source;
    if (!('transition' in source)) continue;
    const m = source.transition;
    if (!m.to.includes(to)) continue;
    if (m.from && !m.from.includes(from)) continue;
    if (m.breakGlass !== undefined && m.breakGlass !== breakGlass) continue;
    out.push(type);
  }
  return out;
}

/** The event a service's audit action produces, if any. */
export function eventOfAction(action: string): WebhookEventType | undefined {
  return WEBHOOK_EVENT_TYPES.find((t) => {
    const source = WEBHOOK_EVENTS[t].source;
    return 'action' in source && source.action === action;
  });
}

/** A stored event, as the delivery builds its body from it. */
export interface StoredEvent {
  id: string;
  type: WebhookEventType;
  occurredAt: Date;
  facts: EventFacts;
}

/** The standard JSON payload: `type`, `timestamp`, `data` (Standard Webhooks' recommendation) + version. */
export function webhookPayload(e: StoredEvent, link: ApiLink): Record<string, unknown> {
  return {
    type: e.type,
    version: WEBHOOK_PAYLOAD_VERSION,
    eventId: e.id,
    timestamp: e.occurredAt.toISOString(),
    data: WEBHOOK_EVENTS[e.type].data(e.facts, link),
  };
}

/** A Slack-compatible incoming-webhook message: the essentials and a link. */
export function chatMessage(e: StoredEvent, link: ApiLink): Record<string, unknown> {
  const spec = WEBHOOK_EVENTS[e.type];
  const summary = spec.summary(e.facts);
  const data = spec.data(e.facts, link);
  const links = (data.links ?? {}) as Record<string, string>;
  const first = Object.values(links)[0];
  const reasonList = (data.reasons as string[] | undefined) ?? [];
  const lines = [
    `*${summary}*`,
    ...reasonList.slice(0, 5).map((r) => `• ${r}`),
    ...(first ? [`<${first}|Open in Airlock>`] : []),
  ];
  return {
    text: summary,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${e.type} · ${e.occurredAt.toISOString()}` }],
      },
    ],
  };
}

/**
 * The wait before retry `attempt` (1 = the first retry): exponential from `baseMs`, capped at
 * `maxMs`, with ±25 % jitter so that receivers coming back are not hit by every sender at once.
 */
export function webhookRetryDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.round(exp * (0.75 + 0.5 * random));
}
