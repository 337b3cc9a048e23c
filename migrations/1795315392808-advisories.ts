import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** OSV advisories, their imports, and the per-package lookup table the vulnerability scan reads. Generated; grants added. */
export class Advisories1795315392808 implements MigrationInterface {
  name = 'Advisories1795315392808';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "advisory_import" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" integer NOT NULL, "sha256" character(64) NOT NULL, "source" text NOT NULL, "documents" integer NOT NULL, "added" integer NOT NULL, "updated" integer NOT NULL, "unchanged" integer NOT NULL, "created_by" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_advisory_import" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_advisory_import_seq" ON "advisory_import"  ("seq") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_advisory_import_sha256" ON "advisory_import"  ("sha256") `,
    );
    await queryRunner.query(
      `CREATE TABLE "advisory" ("id" text NOT NULL, "modified" TIMESTAMP WITH TIME ZONE NOT NULL, "withdrawn" TIMESTAMP WITH TIME ZONE, "aliases" text array NOT NULL DEFAULT '{}', "summary" text NOT NULL DEFAULT '', "severity" text NOT NULL, "score" real, "vector" text, "document" jsonb NOT NULL, "revision" integer NOT NULL DEFAULT '1', "import_id" uuid NOT NULL, CONSTRAINT "pk_advisory" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "advisory_package" ("advisory_id" text NOT NULL, "ecosystem" text NOT NULL, "release" text NOT NULL, "name" text NOT NULL, "affected" jsonb NOT NULL, CONSTRAINT "pk_advisory_package" PRIMARY KEY ("advisory_id", "ecosystem", "release", "name"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_advisory_package_ecosystem_name" ON "advisory_package"  ("ecosystem", "name") `,
    );
    await queryRunner.query(
      `ALTER TABLE "advisory" ADD CONSTRAINT "fk_advisory_import" FOREIGN KEY ("import_id") REFERENCES "advisory_import"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "advisory_package" ADD CONSTRAINT "fk_advisory_package_advisory" FOREIGN KEY ("advisory_id") REFERENCES "advisory"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON "advisory_import", "advisory", "advisory_package" TO airlock_app`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "advisory_package" DROP CONSTRAINT "fk_advisory_package_advisory"`);
    await queryRunner.query(`ALTER TABLE "advisory" DROP CONSTRAINT "fk_advisory_import"`);
    await queryRunner.query(`DROP INDEX "public"."ix_advisory_package_ecosystem_name"`);
    await queryRunner.query(`DROP TABLE "advisory_package"`);
    await queryRunner.query(`DROP TABLE "advisory"`);
    await queryRunner.query(`DROP INDEX "public"."uq_advisory_import_sha256"`);
    await queryRunner.query(`DROP INDEX "public"."uq_advisory_import_seq"`);
    await queryRunner.query(`DROP TABLE "advisory_import"`);
  }
}
