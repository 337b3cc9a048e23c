/** Where the tests find Postgres and Redis; overridable for machines that run them elsewhere. */
export function testEnv(): { adminDatabaseUrl: string; redisUrl: string } {
  return {
    adminDatabaseUrl: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  };
}
