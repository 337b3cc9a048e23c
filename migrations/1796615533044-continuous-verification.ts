import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Continuous verification: the SBOM packages a promotion's checks read (its evidence), the runs
 * that re-judge what is promoted after an advisory import or a policy activation, and what they
 * find; advisories indexed by the import that last changed them (the incremental match).
 */
export class ContinuousVerification1796615533044 implements MigrationInterface {
  name = 'ContinuousVerification1796615533044';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "promotion_package" ("promotion_id" uuid NOT NULL, "ordinal" integer NOT NULL, "name" text NOT NULL, "version" text, "purl" text, "ecosystem" text, "package_name" text, "release" text, "license" text, CONSTRAINT "pk_promotion_package" PRIMARY KEY ("promotion_id", "ordinal"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_package_identity" ON "promotion_package"  ("ecosystem", "package_name") `,
    );
    await queryRunner.query(
      `CREATE TABLE "verification_run" ("id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "trigger" text NOT NULL, "import_id" uuid, "environment_id" uuid, "policy_version" integer, "status" text NOT NULL, "summary" text NOT NULL DEFAULT '', "counts" jsonb NOT NULL DEFAULT '{}', "reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_verification_run" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_verification_run_seq" ON "verification_run"  ("seq") `);
    await queryRunner.query(
      `CREATE TABLE "verification_finding" ("id" BIGSERIAL NOT NULL, "environment_id" uuid NOT NULL, "promotion_id" uuid NOT NULL, "kind" text NOT NULL, "subject" text NOT NULL, "package" text NOT NULL, "version" text, "severity" text, "fixed_in" text, "blocking" boolean NOT NULL, "note" text, "detail" jsonb NOT NULL DEFAULT '{}', "last_run_id" uuid NOT NULL, "found_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_verification_finding" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_verification_finding_environment" ON "verification_finding"  ("environment_id", "resolved_at") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_verification_finding_key" ON "verification_finding"  ("promotion_id", "kind", "subject", "package") `,
    );
    await queryRunner.query(`CREATE INDEX "ix_advisory_import" ON "advisory"  ("import_id") `);
    await queryRunner.query(
      `ALTER TABLE "promotion_package" ADD CONSTRAINT "fk_promotion_package_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "verification_run" ADD CONSTRAINT "fk_verification_run_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "verification_finding" ADD CONSTRAINT "fk_verification_finding_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "verification_finding" ADD CONSTRAINT "fk_verification_finding_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "verification_finding" DROP CONSTRAINT "fk_verification_finding_promotion"`,
    );
    await queryRunner.query(
      `ALTER TABLE "verification_finding" DROP CONSTRAINT "fk_verification_finding_environment"`,
    );
    await queryRunner.query(
      `ALTER TABLE "verification_run" DROP CONSTRAINT "fk_verification_run_environment"`,
    );
    await queryRunner.query(
      `ALTER TABLE "promotion_package" DROP CONSTRAINT "fk_promotion_package_promotion"`,
    );
    await queryRunner.query(`DROP INDEX "public"."ix_advisory_import"`);
    await queryRunner.query(`DROP INDEX "public"."uq_verification_finding_key"`);
    await queryRunner.query(`DROP INDEX "public"."ix_verification_finding_environment"`);
    await queryRunner.query(`DROP TABLE "verification_finding"`);
    await queryRunner.query(`DROP INDEX "public"."uq_verification_run_seq"`);
    await queryRunner.query(`DROP TABLE "verification_run"`);
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_package_identity"`);
    await queryRunner.query(`DROP TABLE "promotion_package"`);
  }
}
