import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type SbomPackage } from '../../sbom';

/** Rows written per statement: keeps each INSERT's parameters bounded whatever the SBOM holds. */
const CHUNK = 5000;

/**
 * The packages a promotion's checks read from its verified SBOMs, kept for continuous
 * verification. Written again (replaced) each time the checks run, so it is what the decision saw.
 */
@Injectable()
export class PromotionEvidenceRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async recordPackages(promotionId: string, packages: readonly SbomPackage[]): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM promotion_package WHERE promotion_id = $1', [promotionId]);
      for (let start = 0; start < packages.length; start += CHUNK) {
        const chunk = packages.slice(start, start + CHUNK);
        await m.query(
          `INSERT INTO promotion_package
             (promotion_id, ordinal, name, version, purl, ecosystem, package_name, release, license)
           SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
          [
            promotionId,
            chunk.map((_, i) => start + i),
            chunk.map((p) => p.name),
            chunk.map((p) => p.version),
            chunk.map((p) => p.purl),
            chunk.map((p) => p.identity?.ecosystem ?? null),
            chunk.map((p) => p.identity?.name ?? null),
            chunk.map((p) => p.identity?.release ?? null),
            chunk.map((p) => p.license),
          ],
        );
      }
    });
  }
}
