import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Break-glass as data: a flag on the promotion, set by the break-glass transition, instead of a
 * prefix of a history reason. Promotions that broke the glass before keep saying so.
 */
export class BreakGlassFlag1795490000000 implements MigrationInterface {
  name = 'BreakGlassFlag1795490000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "promotion" ADD "break_glass" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(
      `UPDATE "promotion" SET "break_glass" = true WHERE "id" IN (
         SELECT "promotion_id" FROM "promotion_status_change" WHERE "reason" LIKE 'BREAK-GLASS%')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "break_glass"`);
  }
}
