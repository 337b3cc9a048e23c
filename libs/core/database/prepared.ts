import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { atDatabaseEdge } from './database-outage';

/**
 * A statement Postgres parses and plans once per connection (a pg named statement) instead of on
 * every call. For the hot reads: TypeORM's `query()` sends unnamed statements, so a read whose
 * planning costs more than its execution (a join with three subqueries) pays it every time.
 * `name` must be unique per `text`: Postgres refuses a second text under a name it already knows.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * Runs a prepared statement on any pooled connection (autocommit) and returns its rows, with pg's
 * own type parsing (the same as TypeORM's raw `query()`: timestamptz as Date, json parsed, int8 as
 * string). It goes around TypeORM's query runner, so outages are translated here.
 */
export async function queryPrepared<T>(
  db: DataSource,
  statement: PreparedStatement,
  values: readonly unknown[],
): Promise<T[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  const result = await atDatabaseEdge(() =>
    pool.query({ name: statement.name, text: statement.text, values: values as unknown[] }),
  );
  return result.rows as T[];
}
