import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, runMigrations } from '../../apps/devstack/database';
import { startIssuers } from '../../apps/devstack/stack';
import { testEnv } from './test-env';

/**
 * Once per run: a database of the run's own (never one it did not create), migrated; the two
 * development issuers. Everything else each test file starts for itself (see rig.ts).
 */
export default async function globalSetup(): Promise<void> {
  const env = testEnv();
  const dbName = `airlock_test_${randomBytes(4).toString('hex')}`;
  const databaseUrl = await ensureDatabase(env.adminDatabaseUrl, dbName);
  await runMigrations(databaseUrl);
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  const issuers = await startIssuers(join(dataDir, 'issuers'));
  (globalThis as Record<string, unknown>).__airlockIssuers = issuers;
  process.env.AIRLOCK_TEST_DB_NAME = dbName;
  process.env.AIRLOCK_TEST_DATABASE_URL = databaseUrl;
  process.env.AIRLOCK_TEST_DATA_DIR = dataDir;
  process.env.AIRLOCK_TEST_CI_ISSUER = issuers.ci;
  process.env.AIRLOCK_TEST_PEOPLE_ISSUER = issuers.people;
}
