import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Drift checks: one row per comparison of an environment's target registry with what Airlock
 * promoted there, and the differences it found.
 */
export class DriftChecks1796614785239 implements MigrationInterface {
  name = 'DriftChecks1796614785239';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "drift_check" ("id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "environment_id" uuid NOT NULL, "trigger" text NOT NULL, "requested_by" jsonb NOT NULL, "status" text NOT NULL, "summary" text NOT NULL DEFAULT '', "counts" jsonb NOT NULL DEFAULT '{}', "reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_drift_check" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_drift_check_seq" ON "drift_check"  ("seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_drift_check_environment_seq" ON "drift_check"  ("environment_id", "seq") `,
    );
    await queryRunner.query(
      `CREATE TABLE "drift_finding" ("id" BIGSERIAL NOT NULL, "check_id" uuid NOT NULL, "kind" text NOT NULL, "repository" text NOT NULL, "tag" text, "expected_digest" text, "actual_digest" text, "promotion_id" uuid, "message" text NOT NULL, CONSTRAINT "pk_drift_finding" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_drift_finding_check" ON "drift_finding"  ("check_id") `);
    await queryRunner.query(
      `ALTER TABLE "drift_check" ADD CONSTRAINT "fk_drift_check_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "drift_finding" ADD CONSTRAINT "fk_drift_finding_check" FOREIGN KEY ("check_id") REFERENCES "drift_check"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "drift_finding" DROP CONSTRAINT "fk_drift_finding_check"`);
    await queryRunner.query(`ALTER TABLE "drift_check" DROP CONSTRAINT "fk_drift_check_environment"`);
    await queryRunner.query(`DROP INDEX "public"."ix_drift_finding_check"`);
    await queryRunner.query(`DROP TABLE "drift_finding"`);
    await queryRunner.query(`DROP INDEX "public"."ix_drift_check_environment_seq"`);
    await queryRunner.query(`DROP INDEX "public"."uq_drift_check_seq"`);
    await queryRunner.query(`DROP TABLE "drift_check"`);
  }
}
