/**
 * SQL that writes webhook events in the statement or transaction that produced them (the
 * transactional outbox): the event row, one delivery per enabled subscription that wants it, and
 * one outbox row per delivery, which the relay turns into a `webhook.deliver` job. A rolled-back
 * change writes none of it; a committed one always has its deliveries queued.
 */

/** Whether subscription `s` wants an event of type `type` in environment `env` (SQL expressions). */
const wants = (type: string, env: string): string =>
  `s.enabled AND ${type} = ANY(s.event_types)
     AND (cardinality(s.environments) = 0 OR ${env} = ANY(s.environments))`;

/** The job id of a delivery's n-th round (0: the first; a re-send adds one). */
export const deliveryJobSql = (delivery: string, round: string): string =>
  `'webhook-deliver-' || ${delivery} || CASE WHEN ${round} = 0 THEN '' ELSE '-r' || ${round} END`;

export interface EventSource {
  /** The FROM clause giving one row per event to write (may join other CTEs). */
  from: string;
  /** SQL expressions over that row. */
  type: string;
  environment: string;
  subjectType: string;
  subjectId: string;
  facts: string;
}

/**
 * CTEs (each preceded by a comma) that write the events `src` yields. Events no enabled
 * subscription wants are not stored at all: a deployment without subscriptions pays one index-less
 * look-up of an empty table per transition.
 */
export function webhookEventCtes(src: EventSource): string {
  return `, wh_ev AS (
         INSERT INTO webhook_event (type, environment, subject_type, subject_id, facts)
         SELECT ${src.type}, ${src.environment}, ${src.subjectType}, ${src.subjectId}, ${src.facts}
         FROM ${src.from}
         WHERE EXISTS (SELECT 1 FROM webhook_subscription s WHERE ${wants(src.type, src.environment)})
         RETURNING id, type, environment
       ), wh_dl AS (
         INSERT INTO webhook_delivery (event_id, subscription_id)
         SELECT wh_ev.id, s.id FROM wh_ev JOIN webhook_subscription s ON ${wants('wh_ev.type', 'wh_ev.environment')}
         RETURNING id
       ), wh_job AS (
         INSERT INTO outbox (job_name, job_id, payload)
         SELECT 'webhook.deliver', ${deliveryJobSql('wh_dl.id::text', '0')}, jsonb_build_object('deliveryId', wh_dl.id)
         FROM wh_dl
       )`;
}

/**
 * The facts of a promotion event from the row a transition returned (`moved`, columns named as
 * the entity's properties, see promotion-row.ts); `$from`, `$to`, `$reason`, `$actor` are the
 * statement's parameters.
 */
export const transitionFacts = (
  row: string,
  from: string,
  to: string,
  reason: string,
  actor: string,
): string => `jsonb_build_object(
  'actor', ${actor},
  'transition', jsonb_build_object('from', ${from}, 'to', ${to}, 'reason', ${reason}),
  'approvals', (SELECT pv.document -> 'approvals' FROM policy_version pv WHERE pv.id = ${row}."policyVersionId"),
  'promotion', jsonb_build_object(
    'id', ${row}.id, 'environmentId', ${row}."environmentId",
    'environment', (SELECT e.name FROM environment e WHERE e.id = ${row}."environmentId"),
    'sourceRegistry', ${row}."sourceRegistry", 'sourceRepository', ${row}."sourceRepository",
    'digest', ${row}.digest, 'tag', ${row}.tag,
    'targetRegistry', ${row}."targetRegistry", 'targetRepository', ${row}."targetRepository",
    'status', ${row}.status, 'reasons', ${row}.reasons, 'breakGlass', ${row}."breakGlass",
    'requester', ${row}.requester,
    'attestation', CASE WHEN ${row}.attestation IS NULL THEN NULL ELSE jsonb_build_object(
      'reference', ${row}.attestation ->> 'reference', 'digest', ${row}.attestation ->> 'digest') END))`;
