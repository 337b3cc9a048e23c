import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** A granted waiver's end is announced once (audit and webhook `waiver.expired`). */
export class WaiverExpiry1796619458286 implements MigrationInterface {
  name = 'WaiverExpiry1796619458286';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "waiver" ADD "expiry_announced_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "waiver" DROP COLUMN "expiry_announced_at"`);
  }
}
