import { Logger } from '@nestjs/common';
import { Client, DatabaseError, Pool } from 'pg';
import { QueryFailedError } from 'typeorm';
import { DomainError, ErrorCode, isOutage } from '../../domain';
import { asDatabaseError, atDatabaseEdge, isDatabaseUnreachable } from './database-outage';

/** A Postgres error as node-postgres builds it from the server's ErrorResponse. */
function pgError(code: string, message = 'x'): DatabaseError {
  const e = new DatabaseError(message, 0, 'error');
  e.code = code;
  return e;
}

/** TypeORM wraps every failed query; the driver's error is kept as driverError. */
const wrapped = (e: Error): QueryFailedError => new QueryFailedError('SELECT 1', [], e);

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnreachable', () => {
  it.each<[string, unknown]>([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a timed-out connection', withCode('connect ETIMEDOUT 10.0.0.1:5432', 'ETIMEDOUT')],
    [
      'localhost with two addresses, both refused',
      Object.assign(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''), {
        code: undefined,
      }),
    ],
    ['a connection the server dropped', new Error('Connection terminated unexpectedly')],
    ['pg connection timeout', new Error('Connection terminated due to connection timeout')],
    ['the pool waited past connectionTimeoutMillis', new Error('timeout exceeded when trying to connect')],
    [
      'a client that broke earlier',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['admin shutdown (pg_ctl stop)', pgError('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown', pgError('57P02')],
    ['cannot connect now (starting up)', pgError('57P03', 'the database system is starting up')],
    ['connection failure (class 08)', pgError('08006')],
    ['connection does not exist (class 08)', pgError('08003')],
    ['too many connections', pgError('53300')],
    ['a dropped connection inside TypeORM', wrapped(new Error('Connection terminated unexpectedly'))],
    ['admin shutdown inside TypeORM', wrapped(pgError('57P01'))],
    ['a cause chain', new Error('outer', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
  ])('recognises %s', (_name, e) => {
    expect(isDatabaseUnreachable(e)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a unique violation', wrapped(pgError('23505', 'duplicate key value'))],
    ['a syntax error', wrapped(pgError('42601'))],
    ['a serialization failure', wrapped(pgError('40001'))],
    ['a query cancelled by statement timeout', wrapped(pgError('57014'))],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a domain error', new DomainError(ErrorCode.NotFound, 'promotion x was not found')],
    ['nothing', undefined],
    ['a string', 'ECONNREFUSED'],
  ])('leaves %s alone', (_name, e) => {
    expect(isDatabaseUnreachable(e)).toBe(false);
    expect(asDatabaseError(e)).toBe(e);
  });

  it('turns a value Postgres cannot store into validation_failed, keeping the cause', () => {
    Logger.overrideLogger(false);
    const e = wrapped(pgError('22003'));
    expect(isDatabaseUnreachable(e)).toBe(false);
    expect(asDatabaseError(e)).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { errors: [{ field: 'request', message: 'value out of range or not representable' }] },
      cause: e,
    });
  });

  it('survives wrappers that point at each other', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = new Error('b', { cause: a });
    expect(isDatabaseUnreachable(a)).toBe(false);
  });
});

describe('atDatabaseEdge', () => {
  it('turns a real refused connection into database_unavailable, keeping the cause', async () => {
    // Port 1 on loopback: nothing listens, the kernel refuses at once.
    const client = new Client({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const e = await atDatabaseEdge(() => client.connect()).catch((x: unknown) => x);
    expect(isOutage(e)).toBe(true);
    expect(e).toMatchObject({ code: ErrorCode.DatabaseUnavailable, details: { dependency: 'postgres' } });
    expect((e as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('turns a pool that cannot connect in time into database_unavailable', async () => {
    const pool = new Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 200,
    });
    try {
      const e = await atDatabaseEdge(() => pool.query('SELECT 1')).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: ErrorCode.DatabaseUnavailable });
    } finally {
      await pool.end();
    }
  });

  it('passes other failures and results through unchanged', async () => {
    const bug = new TypeError('bug');
    await expect(atDatabaseEdge(() => Promise.reject(bug))).rejects.toBe(bug);
    await expect(atDatabaseEdge(() => Promise.resolve(42))).resolves.toBe(42);
  });
});
