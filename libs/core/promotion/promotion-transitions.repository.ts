import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type Pool, type PoolClient } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  type GateEvidence,
  INITIAL_STATUS,
  PromotionKind,
  type PromotionStatus,
  type WaitingFor,
} from '../../domain';
import { type JobName } from '../../jobs';
import { atDatabaseEdge } from '../database/database-outage';
import { constraintOf, mapSqlStates, SqlState } from '../database/pg-errors';
import { inTransaction, type Tx } from '../database/unit-of-work';
import { type Actor } from '../identity/actor';
import { transitionFacts, webhookEventCtes } from '../webhook/webhook-event-sql';
import { STALE_CLAIM_SECONDS } from './idempotency-key.entity';
import { type PromotionEntity } from './promotion.entity';
import { promotionColumns, type PromotionRow, toPromotion } from './promotion-row';

export interface Transition {
  promotionId: string;
  from: PromotionStatus;
  to: PromotionStatus;
  actor: Actor;
  /** Why, in a sentence; kept in the history and the audit event. */
  reason: string;
  /** Replaces the promotion's reasons (rejection reasons, failure cause) when given. */
  reasons?: string[];
  /** Extra audit details. */
  details?: Record<string, unknown>;
  /** Approvals were skipped (break-glass): recorded on the promotion for good, and attested. */
  breakGlass?: boolean;
  /**
   * Into waiting: what for and until when (shown by the API), and how long from now the release
   * job is delayed (the rules' clock may run ahead of the system's in tests, so it is a duration).
   */
  waiting?: { for: WaitingFor; until: Date; delayMs: number };
  /** What the gate relied on, kept on the promotion (into promoting). */
  gate?: GateEvidence;
}

export interface NewPromotion {
  id: string;
  environmentId: string;
  sourceRegistry: string;
  sourceRepository: string;
  digest: string;
  tag: string | null;
  targetRegistry: string;
  targetRepository: string;
  requester: PromotionEntity['requester'];
  requesterKey: string;
  claims: PromotionEntity['claims'];
  metadata: Record<string, string>;
  tokenIssuer: string | null;
  tokenJti: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  /**
   * The Idempotency-Key is claimed by the intake statement itself rather than beforehand (nothing
   * to resolve or judge between claim and insert): nothing is inserted when someone holds the key.
   */
  claimIdempotencyKey?: boolean;
  /** Absent: a promotion. A rollback names the promotions it rolls back from and to. */
  rollback?: { fromPromotionId: string | null; toPromotionId: string };
}

export interface CreatedPromotion {
  policySha256: string;
  policyVersion: number;
  createdAt: Date;
}

/**
 * The outbox row of the job a transition starts (`job`: its name, or NULL for none), from the
 * `hist` row just inserted. The job id is jobIdFor's formula (libs/jobs/job.types.ts; a spec keeps
 * the two equal): the reconciler finds the job again by it.
 */
const OUTBOX_INSERT = (job: string, delayMs = 'NULL'): string => `
         INSERT INTO outbox (job_name, job_id, payload, not_before)
         SELECT ${job}::text, replace(${job}::text, '.', '-') || '-' || hist.promotion_id || '-' || hist.id,
           jsonb_build_object('promotionId', hist.promotion_id),
           now() + make_interval(secs => ${delayMs}::float8 / 1000)
         FROM hist WHERE ${job}::text IS NOT NULL`;

/**
 * The conditional move (see PromotionTransitionRepository.move), a named prepared statement: the
 * worker runs it twice per promotion, and parsing and planning its CTEs was most of its cost.
 */
const MOVE_STATEMENT = 'airlock_promotion_move';
const MOVE_SQL = `WITH moved AS (
         UPDATE promotion SET status = $3::text::promotion_status, updated_at = now(),
                reasons = COALESCE($6::jsonb, reasons), break_glass = break_glass OR $9::boolean,
                waiting_for = $10::text, waiting_until = $11::timestamptz, gate = COALESCE($12::jsonb, gate)
         WHERE id = $1 AND status = $2::text::promotion_status
         RETURNING ${promotionColumns('promotion')}
       ), hist AS (
         INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         SELECT id, $2::text::promotion_status, $3::text::promotion_status, $4::jsonb, $5 FROM moved
         RETURNING id, promotion_id
       ), aud AS (
         INSERT INTO audit_pending (actor, action, subject_type, subject_id, details)
         SELECT $4::jsonb, 'promotion.' || $3::text, 'promotion', id::text,
                jsonb_build_object('from', $2::text, 'to', $3::text, 'reason', $5::text) || $7::jsonb
         FROM moved
       ), job AS (${OUTBOX_INSERT('$8', '$13')}
       )${webhookEventCtes({
         from: 'moved, unnest($14::text[]) AS t',
         type: 't',
         environment: '(SELECT e.name FROM environment e WHERE e.id = moved."environmentId")',
         subjectType: "'promotion'",
         subjectId: 'moved.id::text',
         facts: transitionFacts('moved', '$2::text', '$3::text', '$5::text', '$4::jsonb'),
       })}
       SELECT * FROM moved`;

/** The unique index on a promotion's (token issuer, jti): see PromotionEntity. */
const TOKEN_CONSTRAINT = 'uq_promotion_token';

/**
 * The statements of the state machine (promotion-state-machine.ts decides, this writes): the
 * intake and the conditional move, each one statement that also writes the history row, the audit
 * event, the outbox row of the work it starts and its webhook events.
 */
@Injectable()
export class PromotionTransitionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A transaction for work that moves promotions along with other writes (an approval). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, work);
  }

  /**
   * The intake: inserts the promotion in the initial status, pinned to the environment's active
   * policy version at this instant. Null when the environment has no active policy.
   */
  async insert(
    p: NewPromotion,
    job: JobName | null,
    events: readonly string[],
  ): Promise<CreatedPromotion | null> {
    const rows: Array<{ policy_sha256: string; created_at: Date; policy_version: number }> =
      await this.insertStatement(
        'airlock_promotion_create',
        `WITH env AS (
         SELECT e.id, e.name, pv.id AS policy_version_id, pv.sha256, pv.version
         FROM environment e JOIN policy_version pv ON pv.id = e.active_policy_version_id
         WHERE e.id = $2
       ), claim AS (
         INSERT INTO idempotency_key (requester_key, key, request_hash, promotion_id)
         SELECT $10, $15, $16, $1::uuid FROM env WHERE $22::boolean
         ON CONFLICT (requester_key, key) DO UPDATE
           SET created_at = now(), request_hash = EXCLUDED.request_hash, promotion_id = EXCLUDED.promotion_id
           WHERE idempotency_key.promotion_id IS NULL AND idempotency_key.created_at < now() - make_interval(secs => ${STALE_CLAIM_SECONDS})
         RETURNING 1
       ), p AS (
         INSERT INTO promotion (id, environment_id, policy_version_id, policy_sha256, source_registry,
           source_repository, digest, tag, target_registry, target_repository, status, requester,
           requester_key, claims, metadata, token_issuer, token_jti, idempotency_key, request_hash,
           kind, rollback_from_promotion_id, rollback_to_promotion_id)
         SELECT $1, env.id, env.policy_version_id, env.sha256, $3, $4, $5, $6, $7, $8, '${INITIAL_STATUS}',
           $9::jsonb, $10, $11::jsonb, $12::jsonb, $13, $14, $15, $16, $18::text::promotion_kind, $19::uuid, $20::uuid
         FROM env WHERE NOT $22::boolean OR EXISTS (SELECT 1 FROM claim)
         RETURNING id, policy_version_id, policy_sha256, created_at
       ), hist AS (
         INSERT INTO promotion_status_change (promotion_id, from_status, to_status, actor, reason)
         SELECT id, NULL, '${INITIAL_STATUS}', $9::jsonb, 'requested' FROM p
         RETURNING id, promotion_id
       ), aud AS (
         INSERT INTO audit_pending (actor, action, subject_type, subject_id, details)
         SELECT $9::jsonb, CASE WHEN $18::text = 'rollback' THEN 'promotion.rollback_requested'
             ELSE 'promotion.requested' END, 'promotion', p.id::text,
           jsonb_build_object('artifact', $3 || '/' || $4 || '@' || $5, 'environmentId', $2::text,
             'policyVersionId', p.policy_version_id, 'policySha256', p.policy_sha256, 'claims', $11::jsonb)
           || CASE WHEN $18::text = 'rollback' THEN jsonb_build_object('kind', $18::text, 'tag', $6::text,
                'target', $7 || '/' || $8, 'rollbackFromPromotionId', $19::text, 'rollbackToPromotionId', $20::text,
                'reason', $12::jsonb->>'reason')
              ELSE '{}'::jsonb END
         FROM p
       ), job AS (${OUTBOX_INSERT('$17')}
       ), idem AS (
         UPDATE idempotency_key SET promotion_id = p.id FROM p
         WHERE $15::text IS NOT NULL AND NOT $22::boolean AND requester_key = $10 AND key = $15
       )${webhookEventCtes({
         from: 'p, env, unnest($21::text[]) AS t',
         type: 't',
         environment: 'env.name',
         subjectType: "'promotion'",
         subjectId: 'p.id::text',
         facts: `jsonb_build_object(
           'actor', $9::jsonb,
           'transition', jsonb_build_object('from', NULL, 'to', '${INITIAL_STATUS}', 'reason', 'requested'),
           'promotion', jsonb_build_object('id', p.id, 'environmentId', env.id, 'environment', env.name,
             'sourceRegistry', $3::text, 'sourceRepository', $4::text, 'digest', $5::text, 'tag', $6::text,
             'targetRegistry', $7::text, 'targetRepository', $8::text, 'status', '${INITIAL_STATUS}',
             'reasons', '[]'::jsonb, 'breakGlass', false, 'requester', $9::jsonb, 'attestation', NULL))`,
       })}
       SELECT p.policy_sha256, p.created_at, env.version AS policy_version FROM p, env`,
        [
          p.id,
          p.environmentId,
          p.sourceRegistry,
          p.sourceRepository,
          p.digest,
          p.tag,
          p.targetRegistry,
          p.targetRepository,
          JSON.stringify(p.requester),
          p.requesterKey,
          JSON.stringify(p.claims),
          JSON.stringify(p.metadata),
          p.tokenIssuer,
          p.tokenJti,
          p.idempotencyKey,
          p.requestHash,
          job,
          p.rollback ? PromotionKind.Rollback : PromotionKind.Promotion,
          p.rollback?.fromPromotionId ?? null,
          p.rollback?.toPromotionId ?? null,
          events,
          p.claimIdempotencyKey === true && p.idempotencyKey !== null,
        ],
      );
    if (rows.length !== 1) return null;
    return {
      policySha256: rows[0].policy_sha256,
      policyVersion: rows[0].policy_version,
      createdAt: rows[0].created_at,
    };
  }

  /**
   * Moves the promotion from `t.from` to `t.to` if it is still in `t.from`, and returns it as it
   * now is; null when it is not (anymore) in `t.from`.
   */
  async move(
    t: Transition,
    job: JobName | null,
    events: readonly string[],
    manager?: EntityManager,
  ): Promise<PromotionEntity | null> {
    const rows = await this.preparedOn<PromotionRow>(manager, MOVE_STATEMENT, MOVE_SQL, [
      t.promotionId,
      t.from,
      t.to,
      JSON.stringify(t.actor),
      t.reason,
      t.reasons ? JSON.stringify(t.reasons) : null,
      JSON.stringify(t.details ?? {}),
      job,
      t.breakGlass === true,
      t.waiting?.for ?? null,
      t.waiting?.until.toISOString() ?? null,
      t.gate ? JSON.stringify(t.gate) : null,
      t.waiting ? Math.max(0, t.waiting.delayMs) : null,
      events,
    ]);
    return rows.length === 1 ? toPromotion(rows[0]) : null;
  }

  /** The status a promotion has now, or null when there is no such promotion. */
  async statusOf(id: string, manager: EntityManager = this.db.manager): Promise<PromotionStatus | null> {
    const current: Array<{ status: PromotionStatus }> = await manager.query(
      'SELECT status FROM promotion WHERE id = $1',
      [id],
    );
    return current[0]?.status ?? null;
  }

  /** The intake statement; a CI token's second use (its `jti` is unique per issuer) is token_replayed. */
  private insertStatement<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    return mapSqlStates(() => this.prepared<T>(name, text, values), {
      [SqlState.UniqueViolation]: (e) =>
        constraintOf(e) === TOKEN_CONSTRAINT
          ? new DomainError(
              ErrorCode.TokenReplayed,
              'this CI token has already been used to request a promotion',
              {},
            )
          : undefined,
    });
  }

  /**
   * A named prepared statement on the connection of the caller's transaction (`manager`), or on
   * any pooled one: prepared once per connection either way.
   */
  private async preparedOn<T>(
    manager: EntityManager | undefined,
    name: string,
    text: string,
    values: unknown[],
  ): Promise<T[]> {
    const runner = manager?.queryRunner;
    if (!runner) return this.prepared<T>(name, text, values);
    // TypeORM's runner holds the transaction's pg client; its connect() hands it over (the
    // DataSource translates outages there already).
    const client = (await runner.connect()) as PoolClient;
    return (await atDatabaseEdge(() => client.query({ name, text, values }))).rows as T[];
  }

  /**
   * Runs the intake statement as a named prepared statement: parsed and planned once per
   * connection instead of on every request (2 kB of SQL; about a third of intake's database time).
   */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    // Around TypeORM, so through the edge by hand: an unreachable Postgres is database_unavailable.
    return (await atDatabaseEdge(() => pool.query({ name, text, values }))).rows as T[];
  }
}
