import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Role bindings may say which artifact repositories a requester may ask for; and one counter,
 * bumped in the same transaction as every change to trusted issuers, role bindings and identity
 * links, lets every API process check before it authorises a request that what it remembers of
 * them is current (a NOTIFY can arrive after the next request).
 */
export class IdentityScope1795420000000 implements MigrationInterface {
  name = 'IdentityScope1795420000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "role_binding" ADD "artifact_repository_pattern" text`);
    await q.query(
      `CREATE TABLE "identity_generation" ("id" smallint NOT NULL DEFAULT 1, "value" bigint NOT NULL DEFAULT 0, CONSTRAINT "pk_identity_generation" PRIMARY KEY ("id"), CONSTRAINT "ck_identity_generation_one_row" CHECK ("id" = 1))`,
    );
    await q.query(`INSERT INTO "identity_generation" ("id", "value") VALUES (1, 0)`);
    await q.query(`GRANT SELECT, UPDATE ON "identity_generation" TO airlock_app`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "identity_generation"`);
    await q.query(`ALTER TABLE "role_binding" DROP COLUMN "artifact_repository_pattern"`);
  }
}
