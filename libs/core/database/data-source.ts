import { type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { AirlockNamingStrategy } from './naming-strategy';
import { MIGRATIONS } from '../../../migrations';

/** The one DataSource definition, shared by the API, the worker, the migration CLI and the tests. */
export function dataSourceOptions(url: string, poolSize = 10, connectTimeoutMs = 10_000): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new AirlockNamingStrategy(),
    synchronize: false,
    // gen_random_uuid() is built into Postgres 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: false,
    // connectionTimeoutMillis bounds both a new connection and the wait for a free one: without
    // it a request waits forever while Postgres is down, instead of answering 503.
    // keepAlive and the idle-in-transaction bound: a process whose host vanished mid-transaction
    // must not hold row locks (outbox rows, the reconciler's advisory lock) for the hours the
    // kernel's defaults would take to notice.
    extra: {
      max: poolSize,
      application_name: 'airlock',
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options: '-c idle_in_transaction_session_timeout=300000',
    },
  };
}
