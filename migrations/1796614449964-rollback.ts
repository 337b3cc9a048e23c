import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Rollback: a promotion has a kind (a new digest, or a rollback to one Airlock promoted there
 * before) and a rollback names the promotions it rolls back from and to. The index serves the
 * history of a target tag (what Airlock put there, in order) and the tag-move rule of the promoter.
 */
export class Rollback1796614449964 implements MigrationInterface {
  name = 'Rollback1796614449964';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TYPE "public"."promotion_kind" AS ENUM('promotion', 'rollback')`);
    await queryRunner.query(
      `ALTER TABLE "promotion" ADD "kind" "public"."promotion_kind" NOT NULL DEFAULT 'promotion'`,
    );
    await queryRunner.query(`ALTER TABLE "promotion" ADD "rollback_from_promotion_id" uuid`);
    await queryRunner.query(`ALTER TABLE "promotion" ADD "rollback_to_promotion_id" uuid`);
    await queryRunner.query(
      `CREATE INDEX "ix_promotion_target_registry_tag" ON "promotion" ("target_registry", "target_repository", "tag") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_promotion_target_registry_tag"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "rollback_to_promotion_id"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "rollback_from_promotion_id"`);
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "kind"`);
    await queryRunner.query(`DROP TYPE "public"."promotion_kind"`);
  }
}
