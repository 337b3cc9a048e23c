import { PromotionStatus as S } from './promotion-status';
import {
  chatMessage,
  type EventFacts,
  eventOfAction,
  eventsOfTransition,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_EVENTS,
  WebhookEventType as E,
  webhookPayload,
  webhookRetryDelay,
} from './webhook-events';

const promotion = {
  id: 'p-1',
  environmentId: 'e-1',
  environment: 'prod',
  sourceRegistry: 'registry.staging.example.com',
  sourceRepository: 'acme/app',
  digest: `sha256:${'a'.repeat(64)}`,
  tag: 'v1',
  targetRegistry: 'registry.prod.example.com',
  targetRepository: 'prod/acme/app',
  status: 'promoted',
  reasons: ['a reason'],
  breakGlass: false,
  requester: { kind: 'ci', issuer: 'https://ci.example.com', subject: 'ci-app' },
  attestation: { reference: 'registry.prod.example.com/prod/acme/app:sha256-aaa.att', digest: 'sha256:bbb' },
};
const facts: EventFacts = {
  actor: { kind: 'system', issuer: 'airlock', subject: 'worker' },
  promotion,
  transition: { from: 'promoting', to: 'promoted', reason: 'promoted' },
  approvals: { rules: [{ name: 'release', required: 2, groups: ['release-managers'] }] },
  details: {
    environment: 'prod',
    version: 3,
    sha256: 'c'.repeat(64),
    reviewId: 'r-1',
    promotionId: 'p-1',
    findings: 2,
    rules: ['aws'],
  },
};
const link = (path: string): string => `https://airlock.example.com${path}`;

describe('webhook events: one table of what produces each event', () => {
  it.each<[S | null, S, boolean, E[]]>([
    [null, S.Received, false, [E.PromotionRequested]],
    [S.Received, S.Checking, false, []],
    [S.Checking, S.AwaitingApproval, false, [E.ChecksPassed, E.AwaitingApproval]],
    [S.Checking, S.Approved, false, [E.ChecksPassed, E.Approved]],
    [S.AwaitingApproval, S.Approved, false, [E.Approved]],
    [S.AwaitingApproval, S.Approved, true, [E.Approved, E.BreakGlassUsed]],
    [S.Failed, S.Approved, false, []],
    [S.Checking, S.Rejected, false, [E.Rejected]],
    [S.AwaitingApproval, S.Rejected, false, [E.Rejected]],
    [S.Approved, S.Promoting, false, [E.Promoting]],
    [S.Promoting, S.Promoted, false, [E.Promoted]],
    [S.Promoting, S.Failed, false, [E.Failed]],
    [S.AwaitingApproval, S.Cancelled, false, [E.Cancelled]],
    [S.AwaitingApproval, S.Expired, false, [E.Expired]],
  ])('%s → %s (break-glass %s) produces %j', (from, to, breakGlass, events) => {
    expect(eventsOfTransition(from, to, breakGlass).sort()).toEqual([...events].sort());
  });

  it('maps the services’ audit actions to their events', () => {
    expect(eventOfAction('policy.version_added')).toBe(E.PolicyProposed);
    expect(eventOfAction('policy.activated')).toBe(E.PolicyActivated);
    expect(eventOfAction('break_glass.signed_off')).toBe(E.BreakGlassSignedOff);
    expect(eventOfAction('check.secrets_found')).toBe(E.SecretFound);
    expect(eventOfAction('promotion.cancelled')).toBeUndefined();
  });

  it('every event type is produced by something', () => {
    const transitions = [null, ...Object.values(S)].flatMap((from) =>
      Object.values(S).flatMap((to) => [
        ...eventsOfTransition(from, to, false),
        ...eventsOfTransition(from, to, true),
      ]),
    );
    for (const type of WEBHOOK_EVENT_TYPES) {
      const source = WEBHOOK_EVENTS[type].source;
      expect('action' in source || transitions.includes(type)).toBe(true);
    }
  });

  it.each(WEBHOOK_EVENT_TYPES)('%s: a small, versioned payload with links, and a chat message', (type) => {
    const payload = webhookPayload({ id: '42', type, occurredAt: new Date(0), facts }, link);
    expect(payload).toMatchObject({ type, version: 1, eventId: '42', timestamp: '1970-01-01T00:00:00.000Z' });
    const text = JSON.stringify(payload);
    expect(text.length).toBeLessThan(2048);
    expect(text).toContain('https://airlock.example.com/v1/');
    const chat = chatMessage({ id: '42', type, occurredAt: new Date(0), facts }, link);
    expect(typeof chat.text).toBe('string');
    expect(JSON.stringify(chat.blocks)).toContain('Open in Airlock');
  });

  it('says who may approve, and carries the target digest and attestation when promoted', () => {
    const awaiting = webhookPayload(
      { id: '1', type: E.AwaitingApproval, occurredAt: new Date(0), facts },
      link,
    );
    expect((awaiting.data as Record<string, unknown>).mayApprove).toEqual({
      role: 'approver',
      environment: 'prod',
      rules: [{ name: 'release', required: 2, groups: ['release-managers'] }],
    });
    const promoted = webhookPayload({ id: '2', type: E.Promoted, occurredAt: new Date(0), facts }, link);
    expect(promoted.data).toMatchObject({
      targetDigest: promotion.digest,
      attestation: { reference: promotion.attestation.reference, digest: 'sha256:bbb' },
    });
  });

  it('retries back off exponentially with jitter, capped, and keep trying for more than a day', () => {
    expect(webhookRetryDelay(1, 5000, 3_600_000, 0.5)).toBe(5000);
    expect(webhookRetryDelay(2, 5000, 3_600_000, 0.5)).toBe(10_000);
    expect(webhookRetryDelay(30, 5000, 3_600_000, 0.5)).toBe(3_600_000);
    expect(webhookRetryDelay(3, 5000, 3_600_000, 0)).toBe(15_000);
    expect(webhookRetryDelay(3, 5000, 3_600_000, 1)).toBe(25_000);
    // With the least jitter every time, 45 retries still span more than 24 h (the handler stops
    // on time, WEBHOOK_RETRY_FOR_MS, not on a count).
    let total = 0;
    for (let i = 1; i <= 45; i++) total += webhookRetryDelay(i, 5000, 3_600_000, 0);
    expect(total).toBeGreaterThan(24 * 3_600_000);
  });
});
