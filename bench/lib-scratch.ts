// What a bench that runs the stack needs of its own: a database (migrated by the caller), a Redis
// key prefix and a temporary directory, all named after the bench and a random id, and one close()
// that removes exactly those: a bench never drops what it did not create.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { dropDatabase, ensureDatabase } from '../apps/devstack/database';
import { AirlockStack, developmentBootstrap, type Issuers } from '../apps/devstack/stack';
import { testEnv } from '../test/support/test-env';

export interface BenchScratch {
  adminDatabaseUrl: string;
  redisUrl: string;
  dbName: string;
  databaseUrl: string;
  /** Redis key prefix for the stack (`redisPrefix`). */
  prefix: string;
  dataDir: string;
  /** A small pool of the bench's own, for its reads. */
  db: Pool;
  redis: Redis;
  /** Ends the connections, then removes the Redis keys under the prefix, the database and the directory. */
  close(): Promise<void>;
}

/** `name` is a lower-case word: `airlock_bench_<name>_<id>`, `airlock-bench-<name>-<id>`. */
export async function openBenchScratch(name: string): Promise<BenchScratch> {
  const { adminDatabaseUrl, redisUrl } = testEnv();
  const id = randomBytes(4).toString('hex');
  const dbName = `airlock_bench_${name}_${id}`;
  const prefix = `airlock-bench-${name}-${id}`;
  const dataDir = mkdtempSync(join(tmpdir(), `airlock-${name}-bench-`));
  const databaseUrl = await ensureDatabase(adminDatabaseUrl, dbName);
  const db = new Pool({ connectionString: databaseUrl, max: 2 });
  db.on('error', () => undefined);
  const redis = new Redis(redisUrl);
  const close = async (): Promise<void> => {
    await db.end().catch(() => undefined);
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
    }
    redis.disconnect();
    await dropDatabase(adminDatabaseUrl, dbName).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { adminDatabaseUrl, redisUrl, dbName, databaseUrl, prefix, dataDir, db, redis, close };
}

/** The development stack on a bench's own database, Redis prefix and directory; not started yet. */
export function developmentStack(
  scratch: Pick<BenchScratch, 'dataDir' | 'databaseUrl' | 'redisUrl' | 'prefix'>,
  issuers: Issuers,
  env: Record<string, string>,
): AirlockStack {
  return new AirlockStack({
    dataDir: join(scratch.dataDir, 'stack'),
    databaseUrl: scratch.databaseUrl,
    redisUrl: scratch.redisUrl,
    redisPrefix: scratch.prefix,
    bootstrap: developmentBootstrap(issuers),
    mode: 'development',
    env,
  });
}
