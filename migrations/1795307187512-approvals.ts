import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Approvals: decisions record the person behind the identity; identity links; break-glass reviews. Generated. */

export class Approvals1795307187512 implements MigrationInterface {
  name = 'Approvals1795307187512';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "break_glass_review" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "promotion_id" uuid NOT NULL, "opened_by" jsonb NOT NULL, "opened_by_person" text NOT NULL, "reason" text NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "signed_off_by" jsonb, "signed_off_at" TIMESTAMP WITH TIME ZONE, "sign_off_comment" text, CONSTRAINT "pk_break_glass_review" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_break_glass_review_promotion_id" ON "break_glass_review"  ("promotion_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_break_glass_review_open" ON "break_glass_review"  ("signed_off_at", "opened_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "identity_link" ("identity" text NOT NULL, "person" text NOT NULL, "created_by" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_identity_link" PRIMARY KEY ("identity"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_identity_link_person" ON "identity_link"  ("person") `);
    await queryRunner.query(`ALTER TABLE "approval" ADD "person" text NOT NULL`);
    await queryRunner.query(`ALTER TABLE "approval" ADD "groups" jsonb NOT NULL DEFAULT '[]'`);
    await queryRunner.query(`ALTER TYPE "public"."role" ADD VALUE 'break_glass'`);
    await queryRunner.query(
      `ALTER TABLE "break_glass_review" ADD CONSTRAINT "fk_break_glass_review_promotion" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    // Added by hand: the application role's rights on the new tables.
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "break_glass_review", "identity_link" TO airlock_app`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "break_glass_review" DROP CONSTRAINT "fk_break_glass_review_promotion"`,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."role_old" AS ENUM('requester', 'approver', 'admin', 'auditor')`,
    );
    await queryRunner.query(
      `ALTER TABLE "role_binding" ALTER COLUMN "role" TYPE "public"."role_old" USING "role"::"text"::"public"."role_old"`,
    );
    await queryRunner.query(`DROP TYPE "public"."role"`);
    await queryRunner.query(`ALTER TYPE "public"."role_old" RENAME TO "role"`);
    await queryRunner.query(`ALTER TABLE "approval" DROP COLUMN "groups"`);
    await queryRunner.query(`ALTER TABLE "approval" DROP COLUMN "person"`);
    await queryRunner.query(`DROP INDEX "public"."ix_identity_link_person"`);
    await queryRunner.query(`DROP TABLE "identity_link"`);
    await queryRunner.query(`DROP INDEX "public"."ix_break_glass_review_open"`);
    await queryRunner.query(`DROP INDEX "public"."uq_break_glass_review_promotion_id"`);
    await queryRunner.query(`DROP TABLE "break_glass_review"`);
  }
}
