import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The secret scan's cache of layer results (see SecretScanLayerEntity). */
export class SecretScanCache1796616325688 implements MigrationInterface {
  name = 'SecretScanCache1796616325688';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "secret_scan_layer" ("digest" text NOT NULL, "version" character(64) NOT NULL, "result" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "used_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_secret_scan_layer" PRIMARY KEY ("digest", "version"))`,
    );
    await q.query(`CREATE INDEX "ix_secret_scan_layer_used_at" ON "secret_scan_layer" ("used_at")`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "secret_scan_layer" TO airlock_app`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "secret_scan_layer"`);
  }
}
