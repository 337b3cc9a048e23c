import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signatureHeader } from './webhook-delivery.service';
import { deliveryJobId } from './webhook-reconciler.service';
import { newWebhookSecret } from './webhook.service';

/** The specification's signature, computed by hand: base64 HMAC-SHA256 of `id.timestamp.body`. */
const bySpec = (secret: string, id: string, ts: number, body: string): string =>
  `v1,${createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${id}.${ts}.${body}`)
    .digest('base64')}`;

describe(signatureHeader.name, () => {
  const body = JSON.stringify({ type: 'promotion.promoted', data: { promotion: { id: 'p' } } });
  const at = new Date();
  const ts = Math.floor(at.getTime() / 1000);
  const headers = (signature: string) => ({
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(ts),
    'webhook-signature': signature,
  });

  it('signs as the specification says, and the library verifies it', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const header = signatureHeader(
      { secret, previousSecret: null, previousSecretExpiresAt: null },
      'msg_1',
      at,
      body,
      Date.now(),
    );
    expect(header).toBe(bySpec(secret, 'msg_1', ts, body));
    expect(new Webhook(secret).verify(body, headers(header))).toEqual(JSON.parse(body));
  });

  it('adds the previous secret’s signature until its grace period ends', () => {
    const [secret, previous] = [newWebhookSecret(), newWebhookSecret()];
    const now = Date.now();
    const during = signatureHeader(
      { secret, previousSecret: previous, previousSecretExpiresAt: new Date(now + 1000) },
      'msg_1',
      at,
      body,
      now,
    );
    expect(during.split(' ')).toEqual([
      bySpec(secret, 'msg_1', ts, body),
      bySpec(previous, 'msg_1', ts, body),
    ]);
    expect(() => new Webhook(previous).verify(body, headers(during))).not.toThrow();
    const after = signatureHeader(
      { secret, previousSecret: previous, previousSecretExpiresAt: new Date(now - 1) },
      'msg_1',
      at,
      body,
      now,
    );
    expect(after).toBe(bySpec(secret, 'msg_1', ts, body));
    expect(() => new Webhook(previous).verify(body, headers(after))).toThrow();
  });
});

describe(deliveryJobId.name, () => {
  it('is the outbox SQL’s job id for a round, with a suffix per requeue', () => {
    // webhook-event-sql.ts deliveryJobSql: 'webhook-deliver-' || id || ('' | '-r' || resends)
    expect(deliveryJobId('d1', 0, 0)).toBe('webhook-deliver-d1');
    expect(deliveryJobId('d1', 2, 0)).toBe('webhook-deliver-d1-r2');
    expect(deliveryJobId('d1', 0, 3)).toBe('webhook-deliver-d1-q3');
    expect(deliveryJobId('d1', 1, 1)).toBe('webhook-deliver-d1-r1-q1');
  });
});
