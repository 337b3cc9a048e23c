import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Credential profiles name their client secret (`clientSecretName`) instead of giving a file path
 * (`clientSecretFile`), which let an admin make Airlock read and send any file it could read.
 *
 * A profile whose path ends in a valid secret name (`[a-z0-9-]{1,63}`, e.g. `/run/secrets/promoter`)
 * is converted to that name: the operator then provides the file of that name in
 * AIRLOCK_SECRETS_DIR (or the AIRLOCK_SECRET_… variable). Any other profile keeps its path, and the
 * API and worker refuse to start, naming the environment, until an admin fixes it. Down turns names
 * back into paths under /run/secrets (the original folder is not kept).
 */
export class NamedSecrets1795400000000 implements MigrationInterface {
  name = 'NamedSecrets1795400000000';

  public async up(q: QueryRunner): Promise<void> {
    await this.rewrite(
      q,
      `CASE
         WHEN r->'credentials' ? 'clientSecretFile'
          AND regexp_replace(r->'credentials'->>'clientSecretFile', '^.*/', '') ~ '^[a-z0-9-]{1,63}$'
         THEN jsonb_set(r, '{credentials}',
                ((r->'credentials') - 'clientSecretFile'::text) || jsonb_build_object('clientSecretName',
                  regexp_replace(r->'credentials'->>'clientSecretFile', '^.*/', '')))
         ELSE r END`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await this.rewrite(
      q,
      `CASE
         WHEN r->'credentials' ? 'clientSecretName'
         THEN jsonb_set(r, '{credentials}',
                ((r->'credentials') - 'clientSecretName'::text) || jsonb_build_object('clientSecretFile',
                  '/run/secrets/' || (r->'credentials'->>'clientSecretName')))
         ELSE r END`,
    );
  }

  /** Applies `expression` (of `r`: a source rule or the target) to every rule of every environment. */
  private async rewrite(q: QueryRunner, expression: string): Promise<void> {
    await q.query(`CREATE FUNCTION airlock_rewrite_profile(r jsonb) RETURNS jsonb
                   LANGUAGE sql IMMUTABLE AS $$ SELECT ${expression} $$`);
    await q.query(`
      UPDATE environment SET
        sources = (SELECT coalesce(jsonb_agg(airlock_rewrite_profile(t.r) ORDER BY t.i), '[]'::jsonb)
                     FROM jsonb_array_elements(sources) WITH ORDINALITY AS t(r, i)),
        target = airlock_rewrite_profile(target),
        updated_at = now()
      WHERE sources::text LIKE '%clientSecret%' OR target::text LIKE '%clientSecret%'`);
    await q.query(`DROP FUNCTION airlock_rewrite_profile(jsonb)`);
  }
}
