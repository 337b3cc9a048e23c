import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Recorded audit verifications: the range each walk covered, its result and duration, and the
 * checkpoint it proved, where the next incremental walk starts.
 */
export class AuditVerifications1796614550531 implements MigrationInterface {
  name = 'AuditVerifications1796614550531';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_verification" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "requested_by" jsonb NOT NULL, "status" text NOT NULL, "requested_start" text NOT NULL, "start" text NOT NULL, "from_seq" bigint NOT NULL, "anchor" jsonb, "to_seq" bigint NOT NULL, "pending_at_start" integer NOT NULL, "checked" bigint NOT NULL DEFAULT '0', "ok" boolean, "report" jsonb, "proven_checkpoint" jsonb, "error" text, "cancel_requested" boolean NOT NULL DEFAULT false, "client_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "duration_ms" integer, CONSTRAINT "pk_audit_verification" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_verification_created" ON "audit_verification"  ("created_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_audit_verification_created"`);
    await queryRunner.query(`DROP TABLE "audit_verification"`);
  }
}
