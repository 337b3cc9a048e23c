import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Tables, indexes and foreign keys, generated from the entities (promotion_status enum deduplicated by hand). */

export class InitialSchema1795305861432 implements MigrationInterface {
  name = 'InitialSchema1795305861432';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "environment" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "description" text NOT NULL DEFAULT '', "sources" jsonb NOT NULL, "target" jsonb NOT NULL, "active_policy_version_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_environment" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_environment_name" ON "environment"  ("name") `);
    await queryRunner.query(
      `CREATE TABLE "policy_version" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "environment_id" uuid NOT NULL, "version" integer NOT NULL, "document" jsonb NOT NULL, "sha256" character(64) NOT NULL, "comment" text NOT NULL DEFAULT '', "created_by" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "activated_by" jsonb, "activated_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_policy_version" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_policy_version_environment_version" ON "policy_version"  ("environment_id", "version") `,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."promotion_status" AS ENUM('received', 'checking', 'awaiting_approval', 'approved', 'promoting', 'promoted', 'rejected', 'expired', 'cancelled', 'failed')`,
    );
    await queryRunner.query(
      `CREATE TABLE "promotion" ("id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "environment_id" uuid NOT NULL, "policy_version_id" uuid NOT NULL, "policy_sha256" character(64) NOT NULL, "source_registry" text NOT NULL, "source_repository" text NOT NULL, "digest" text NOT NULL, "tag" text, "target_registry" text NOT NULL, "target_repository" text NOT NULL, "status" "public"."promotion_status" NOT NULL, "requester" jsonb NOT NULL, "requester_key" text NOT NULL, "claims" jsonb NOT NULL DEFAULT '{}', "metadata" jsonb NOT NULL DEFAULT '{}', "token_issuer" text, "token_jti" text, "idempotency_key" text, "request_hash" character(64) NOT NULL, "reasons" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_promotion" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_promotion_seq" ON "promotion"  ("seq") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_promotion_token" ON "promotion"  ("token_issuer", "token_jti") WHERE token_jti IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "ix_promotion_digest_seq" ON "promotion"  ("digest", "seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_requester_seq" ON "promotion"  ("requester_key", "seq") `,
    );
    await queryRunner.query(`CREATE INDEX "ix_promotion_status_seq" ON "promotion"  ("status", "seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_environment_seq" ON "promotion"  ("environment_id", "seq") `,
    );
    await queryRunner.query(`CREATE TYPE "public"."approval_decision" AS ENUM('approve', 'reject')`);
    await queryRunner.query(
      `CREATE TABLE "approval" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "promotion_id" uuid NOT NULL, "decision" "public"."approval_decision" NOT NULL, "approver" jsonb NOT NULL, "approver_key" text NOT NULL, "comment" text NOT NULL DEFAULT '', "digest" text NOT NULL, "policy_sha256" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_approval" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_approval_promotion_id" ON "approval"  ("promotion_id") `);
    await queryRunner.query(
      `CREATE TABLE "audit_pending" ("id" BIGSERIAL NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" jsonb NOT NULL, "action" text NOT NULL, "subject_type" text NOT NULL, "subject_id" text NOT NULL, "details" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "pk_audit_pending" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_event" ("seq" bigint NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "actor" jsonb NOT NULL, "actor_key" text NOT NULL, "action" text NOT NULL, "subject_type" text NOT NULL, "subject_id" text NOT NULL, "details" jsonb NOT NULL, "prev_hash" character(64) NOT NULL, "hash" character(64) NOT NULL, CONSTRAINT "pk_audit_event" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_audit_event_action_seq" ON "audit_event"  ("action", "seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_event_subject" ON "audit_event"  ("subject_type", "subject_id", "seq") `,
    );
    await queryRunner.query(`CREATE TYPE "public"."check_status" AS ENUM('pass', 'fail', 'error')`);
    await queryRunner.query(
      `CREATE TABLE "promotion_check" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "promotion_id" uuid NOT NULL, "kind" text NOT NULL, "status" "public"."check_status" NOT NULL, "summary" text NOT NULL, "findings" jsonb NOT NULL DEFAULT '[]', "attempts" integer NOT NULL DEFAULT '1', "finished_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_promotion_check" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_promotion_check_promotion_id_kind" ON "promotion_check"  ("promotion_id", "kind") `,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."role" AS ENUM('requester', 'approver', 'admin', 'auditor')`,
    );
    await queryRunner.query(
      `CREATE TABLE "role_binding" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "role" "public"."role" NOT NULL, "environment" text, "issuer" text NOT NULL, "subject" text, "group_name" text, "repository_pattern" text, "created_by" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_role_binding" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_role_binding_issuer" ON "role_binding"  ("issuer") `);
    await queryRunner.query(`CREATE TYPE "public"."caller_kind" AS ENUM('ci', 'human')`);
    await queryRunner.query(
      `CREATE TABLE "trusted_issuer" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "issuer" text NOT NULL, "kind" "public"."caller_kind" NOT NULL, "audience" text NOT NULL, "groups_claim" text NOT NULL DEFAULT 'groups', "created_by" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_trusted_issuer" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_trusted_issuer_issuer" ON "trusted_issuer"  ("issuer") `,
    );
    await queryRunner.query(
      `CREATE TABLE "outbox" ("id" BIGSERIAL NOT NULL, "job_name" text NOT NULL, "job_id" text NOT NULL, "payload" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_outbox" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_outbox_job_id" ON "outbox"  ("job_id") `);
    await queryRunner.query(
      `CREATE TABLE "idempotency_key" ("requester_key" text NOT NULL, "key" text NOT NULL, "request_hash" character(64) NOT NULL, "promotion_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_idempotency_key" PRIMARY KEY ("requester_key", "key"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "promotion_status_change" ("id" BIGSERIAL NOT NULL, "promotion_id" uuid NOT NULL, "from_status" "public"."promotion_status", "to_status" "public"."promotion_status" NOT NULL, "actor" jsonb NOT NULL, "reason" text NOT NULL DEFAULT '', "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_promotion_status_change" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_status_change_promotion_id" ON "promotion_status_change"  ("promotion_id", "id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "policy_version" ADD CONSTRAINT "fk_policy_version_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "promotion" ADD CONSTRAINT "fk_promotion_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "promotion" ADD CONSTRAINT "fk_promotion_policy_version" FOREIGN KEY ("policy_version_id") REFERENCES "policy_version"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "approval" ADD CONSTRAINT "fk_approval_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "promotion_check" ADD CONSTRAINT "fk_promotion_check_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "promotion_status_change" ADD CONSTRAINT "fk_promotion_status_change_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "promotion_status_change" DROP CONSTRAINT "fk_promotion_status_change_promotion"`,
    );
    await queryRunner.query(`ALTER TABLE "promotion_check" DROP CONSTRAINT "fk_promotion_check_promotion"`);
    await queryRunner.query(`ALTER TABLE "approval" DROP CONSTRAINT "fk_approval_promotion"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP CONSTRAINT "fk_promotion_policy_version"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP CONSTRAINT "fk_promotion_environment"`);
    await queryRunner.query(`ALTER TABLE "policy_version" DROP CONSTRAINT "fk_policy_version_environment"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_status_change_promotion_id"`);
    await queryRunner.query(`DROP TABLE "promotion_status_change"`);
    await queryRunner.query(`DROP TABLE "idempotency_key"`);
    await queryRunner.query(`DROP INDEX "public"."uq_outbox_job_id"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
    await queryRunner.query(`DROP INDEX "public"."uq_trusted_issuer_issuer"`);
    await queryRunner.query(`DROP TABLE "trusted_issuer"`);
    await queryRunner.query(`DROP TYPE "public"."caller_kind"`);
    await queryRunner.query(`DROP INDEX "public"."ix_role_binding_issuer"`);
    await queryRunner.query(`DROP TABLE "role_binding"`);
    await queryRunner.query(`DROP TYPE "public"."role"`);
    await queryRunner.query(`DROP INDEX "public"."uq_promotion_check_promotion_id_kind"`);
    await queryRunner.query(`DROP TABLE "promotion_check"`);
    await queryRunner.query(`DROP TYPE "public"."check_status"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_subject"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_event_action_seq"`);
    await queryRunner.query(`DROP TABLE "audit_event"`);
    await queryRunner.query(`DROP TABLE "audit_pending"`);
    await queryRunner.query(`DROP INDEX "public"."ix_approval_promotion_id"`);
    await queryRunner.query(`DROP TABLE "approval"`);
    await queryRunner.query(`DROP TYPE "public"."approval_decision"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_environment_seq"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_status_seq"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_requester_seq"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_digest_seq"`);
    await queryRunner.query(`DROP INDEX "public"."uq_promotion_token"`);
    await queryRunner.query(`DROP INDEX "public"."uq_promotion_seq"`);
    await queryRunner.query(`DROP TABLE "promotion"`);
    await queryRunner.query(`DROP TYPE "public"."promotion_status"`);
    await queryRunner.query(`DROP INDEX "public"."uq_policy_version_environment_version"`);
    await queryRunner.query(`DROP TABLE "policy_version"`);
    await queryRunner.query(`DROP INDEX "public"."uq_environment_name"`);
    await queryRunner.query(`DROP TABLE "environment"`);
  }
}
