import { type DataSource, type QueryRunner } from 'typeorm';
import { chainMessageMatches, DomainError, errorChain, ErrorCode, isSocketFailure } from '../../domain';
import { asStatementError } from './pg-errors';

/**
 * SQLSTATEs that say the server is not there for us right now: class 08 (connection exception),
 * 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now — `pg_ctl stop`, recovery,
 * startup) and 53300 (too many connections). Anything else is the statement's own failure.
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** What node-postgres and pg-pool say when a connection could not be had or went away. */
const PG_CONNECTION_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/, // unexpectedly / due to connection timeout
  /^timeout exceeded when trying to connect/, // pg-pool: connectionTimeoutMillis passed
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^the database system is (starting up|shutting down|in recovery mode)/,
];

/** True when `e` means Postgres could not be reached (not that it refused the statement). */
export function isDatabaseUnreachable(e: unknown): boolean {
  if (e instanceof DomainError) return false;
  const sqlstate = errorChain(e).some((x) => typeof x.code === 'string' && UNAVAILABLE_SQLSTATE.test(x.code));
  return sqlstate || isSocketFailure(e) || chainMessageMatches(e, PG_CONNECTION_MESSAGES);
}

/** The domain error for an unreachable database, keeping the driver's error as `cause` for logs. */
export function databaseUnavailable(cause: unknown): DomainError {
  const err = new DomainError(
    ErrorCode.DatabaseUnavailable,
    'the database cannot be reached right now; retry later',
    { dependency: 'postgres' },
  );
  return Object.assign(err, { cause });
}

/**
 * An unreachable database becomes database_unavailable, a value Postgres cannot store
 * validation_failed (pg-errors.ts); every other error is left alone.
 */
export function asDatabaseError(e: unknown): unknown {
  return isDatabaseUnreachable(e) ? databaseUnavailable(e) : asStatementError(e);
}

/** The repository edge for the few paths that go around TypeORM (the pool, a pg Client). */
export async function atDatabaseEdge<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw asDatabaseError(e);
  }
}

/**
 * Makes every query of the DataSource (repositories, entity managers, transactions, raw
 * `query()`) fail with database_unavailable when Postgres cannot be reached, so no service tests
 * driver codes. Every TypeORM path runs through a query runner's `connect` and `query`, which is
 * where the translation sits.
 */
export function translateDatabaseOutages(ds: DataSource): DataSource {
  const driver = ds.driver as { createQueryRunner(mode: 'master' | 'slave'): QueryRunner };
  const create = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => {
    const runner = create(mode);
    const r = runner as unknown as Record<
      'connect' | 'query' | 'stream',
      (...a: unknown[]) => Promise<unknown>
    >;
    for (const method of ['connect', 'query', 'stream'] as const) {
      const original = r[method].bind(runner);
      r[method] = (...args) => atDatabaseEdge(() => original(...args));
    }
    return runner;
  };
  return ds;
}
