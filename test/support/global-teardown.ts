import { rmSync } from 'node:fs';
import { dropDatabase } from '../../apps/devstack/database';
import { type Issuers } from '../../apps/devstack/stack';
import { testEnv } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const issuers = (globalThis as Record<string, unknown>).__airlockIssuers as Issuers | undefined;
  await issuers?.stop();
  const env = testEnv();
  if (process.env.AIRLOCK_TEST_DB_NAME && !process.env.AIRLOCK_TEST_KEEP) {
    await dropDatabase(env.adminDatabaseUrl, process.env.AIRLOCK_TEST_DB_NAME);
  }
  if (process.env.AIRLOCK_TEST_DATA_DIR && !process.env.AIRLOCK_TEST_KEEP) {
    rmSync(process.env.AIRLOCK_TEST_DATA_DIR, { recursive: true, force: true });
  }
}
