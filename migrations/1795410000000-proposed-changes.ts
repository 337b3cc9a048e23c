import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Four eyes on trust: changes to trusted issuers, role bindings, identity links and environments
 * are proposed here and applied only when a second person approves. Generated.
 */
export class ProposedChanges1795410000000 implements MigrationInterface {
  name = 'ProposedChanges1795410000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TYPE "public"."change_kind" AS ENUM('trusted_issuer.add', 'trusted_issuer.remove', 'role_binding.add', 'role_binding.remove', 'identity_link.add', 'identity_link.remove', 'environment.create')`,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."change_status" AS ENUM('proposed', 'applied', 'rejected', 'withdrawn', 'failed')`,
    );
    await queryRunner.query(
      `CREATE TABLE "proposed_change" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" BIGSERIAL NOT NULL, "kind" "public"."change_kind" NOT NULL, "status" "public"."change_status" NOT NULL, "summary" text NOT NULL, "payload" jsonb NOT NULL, "proposed_by" jsonb NOT NULL, "proposed_by_person" text NOT NULL, "decided_by" jsonb, "decided_at" TIMESTAMP WITH TIME ZONE, "comment" text, "result" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_proposed_change" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_proposed_change_seq" ON "proposed_change"  ("seq") `);
    await queryRunner.query(
      `CREATE INDEX "ix_proposed_change_status_seq" ON "proposed_change"  ("status", "seq") `,
    );
    // Added by hand: the application role's rights. Changes are closed, never deleted.
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE ON "proposed_change" TO airlock_app`);
    await queryRunner.query(`GRANT USAGE, SELECT ON SEQUENCE "proposed_change_seq_seq" TO airlock_app`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_proposed_change_status_seq"`);
    await queryRunner.query(`DROP INDEX "public"."uq_proposed_change_seq"`);
    await queryRunner.query(`DROP TABLE "proposed_change"`);
    await queryRunner.query(`DROP TYPE "public"."change_status"`);
    await queryRunner.query(`DROP TYPE "public"."change_kind"`);
  }
}
