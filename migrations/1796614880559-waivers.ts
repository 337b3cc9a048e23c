import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Waivers: exceptions to an environment's policy that two people agree on and that end by
 * themselves; check results name the waivers that let them through (`waived`). Generated.
 */
export class Waivers1796614880559 implements MigrationInterface {
  name = 'Waivers1796614880559';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TYPE "public"."waiver_status" AS ENUM('requested', 'granted', 'revoked')`,
    );
    await queryRunner.query(
      `CREATE TABLE "waiver" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" BIGSERIAL NOT NULL, "environment_id" uuid NOT NULL, "check" text NOT NULL, "finding" text, "digest" text, "repository_pattern" text, "reason" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "status" "public"."waiver_status" NOT NULL, "requested_by" jsonb NOT NULL, "requested_by_person" text NOT NULL, "granted_by" jsonb, "granted_at" TIMESTAMP WITH TIME ZONE, "revoked_by" jsonb, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoke_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_waiver" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_waiver_seq" ON "waiver"  ("seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_waiver_environment_status" ON "waiver"  ("environment_id", "status") `,
    );
    await queryRunner.query(`ALTER TABLE "promotion_check" ADD "waivers" jsonb NOT NULL DEFAULT '[]'`);
    await queryRunner.query(`ALTER TYPE "public"."check_status" ADD VALUE 'waived'`);
    await queryRunner.query(
      `ALTER TABLE "waiver" ADD CONSTRAINT "fk_waiver_environment" FOREIGN KEY ("environment_id") REFERENCES "environment"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    // Added by hand: the application role's rights. Waivers are revoked, never deleted.
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE ON "waiver" TO airlock_app`);
    await queryRunner.query(`GRANT USAGE, SELECT ON SEQUENCE "waiver_seq_seq" TO airlock_app`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "waiver" DROP CONSTRAINT "fk_waiver_environment"`);
    await queryRunner.query(`CREATE TYPE "public"."check_status_old" AS ENUM('pass', 'fail', 'error')`);
    await queryRunner.query(
      `ALTER TABLE "promotion_check" ALTER COLUMN "status" TYPE "public"."check_status_old" USING "status"::"text"::"public"."check_status_old"`,
    );
    await queryRunner.query(`DROP TYPE "public"."check_status"`);
    await queryRunner.query(`ALTER TYPE "public"."check_status_old" RENAME TO "check_status"`);
    await queryRunner.query(`ALTER TABLE "promotion_check" DROP COLUMN "waivers"`);
    await queryRunner.query(`DROP INDEX "public"."ix_waiver_environment_status"`);
    await queryRunner.query(`DROP INDEX "public"."uq_waiver_seq"`);
    await queryRunner.query(`DROP TABLE "waiver"`);
    await queryRunner.query(`DROP TYPE "public"."waiver_status"`);
  }
}
