import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Where Airlock's signed attestation of a promotion lives. Generated. */

export class PromotionAttestation1795309471436 implements MigrationInterface {
  name = 'PromotionAttestation1795309471436';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "promotion" ADD "attestation" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "promotion" DROP COLUMN "attestation"`);
  }
}
