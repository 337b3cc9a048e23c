import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** What decides who may do what: a change to any of them moves the generation. */
const TABLES = ['trusted_issuer', 'role_binding', 'identity_link'];

/**
 * Role bindings may say which artifact repositories a requester may ask for; and one counter,
 * bumped by triggers in the same transaction as every change to trusted issuers, role bindings and
 * identity links (by Airlock or anyone else), lets every API process check before it authorises a
 * request that what it remembers of them is current (a NOTIFY can arrive after the next request).
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
    await q.query(`
      CREATE FUNCTION airlock_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE identity_generation SET value = value + 1 WHERE id = 1;
        RETURN NULL;
      END $$`);
    for (const table of TABLES) {
      await q.query(`CREATE TRIGGER ${table}_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
                     ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION airlock_identity_changed()`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`DROP TRIGGER ${table}_identity_changed ON ${table}`);
    await q.query(`DROP FUNCTION airlock_identity_changed()`);
    await q.query(`DROP TABLE "identity_generation"`);
    await q.query(`ALTER TABLE "role_binding" DROP COLUMN "artifact_repository_pattern"`);
  }
}
