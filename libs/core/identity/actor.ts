/**
 * Who did something, as recorded in promotions, history and the audit trail. Always derived from
 * a verified token (or `system` for Airlock's own workers), never from a request body.
 */
export interface Actor {
  kind: 'ci' | 'human' | 'system';
  issuer: string;
  subject: string;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', issuer: 'airlock', subject: 'worker' };

/** One string per identity, used for idempotency scopes, filters and separation of duties. */
export function actorKey(actor: Pick<Actor, 'issuer' | 'subject'>): string {
  return `${actor.subject}@${actor.issuer}`;
}
