import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Environment chains, soak and freeze windows: an environment names its upstreams (changed by a
 * four-eyes change of its own kind); a promotion may wait (status `waiting`, what for and until
 * when) and keeps what the gate relied on; an outbox row may be delayed (the release job).
 */
export class EnvironmentChains1796614542875 implements MigrationInterface {
  name = 'EnvironmentChains1796614542875';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TYPE "public"."promotion_status" ADD VALUE IF NOT EXISTS 'waiting'`);
    await queryRunner.query(
      `ALTER TYPE "public"."change_kind" ADD VALUE IF NOT EXISTS 'environment.set_upstreams'`,
    );
    await queryRunner.query(`ALTER TABLE "environment" ADD "upstreams" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "promotion" ADD "waiting_for" text`);
    await queryRunner.query(`ALTER TABLE "promotion" ADD "waiting_until" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "promotion" ADD "gate" jsonb`);
    await queryRunner.query(`ALTER TABLE "outbox" ADD "not_before" TIMESTAMP WITH TIME ZONE`);
    // Who took a target tag after a digest (the chain's "still current" and the soak's restart).
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_target_tag" ON "promotion"  ("environment_id", "target_repository", "tag") WHERE tag IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_target_tag"`);
    await queryRunner.query(`ALTER TABLE "outbox" DROP COLUMN "not_before"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "gate"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "waiting_until"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "waiting_for"`);
    await queryRunner.query(`ALTER TABLE "environment" DROP COLUMN "upstreams"`);
    // Enum values stay: Postgres cannot drop one, and no row uses them after the columns are gone.
  }
}
