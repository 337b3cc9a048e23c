import { Logger } from '@nestjs/common';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { DomainError, ErrorCode } from '../../domain';
import { asStatementError, constraintOf, mapSqlStates, SqlState, sqlStateOf } from './pg-errors';

/** A failed statement as TypeORM hands it on: node-postgres's error kept as driverError. */
function failed(code: string, constraint?: string): QueryFailedError {
  const e = new DatabaseError('x', 0, 'error');
  e.code = code;
  e.constraint = constraint;
  return new QueryFailedError('INSERT …', [], e);
}

const conflict = () => new DomainError(ErrorCode.Conflict, 'already there', {});

describe('pg-errors', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('reads the SQLSTATE and the constraint through TypeORM’s wrapper', () => {
    const e = failed(SqlState.UniqueViolation, 'uq_promotion_token');
    expect(sqlStateOf(e)).toBe('23505');
    expect(constraintOf(e)).toBe('uq_promotion_token');
    expect(sqlStateOf(new TypeError('bug'))).toBeUndefined();
  });

  it('maps the codes a repository names to its domain errors, keeping the cause', async () => {
    const e = failed(SqlState.UniqueViolation);
    const mapped = await mapSqlStates(() => Promise.reject(e), {
      [SqlState.UniqueViolation]: conflict,
    }).catch((x: unknown) => x);
    expect(mapped).toBeInstanceOf(DomainError);
    expect(mapped).toMatchObject({ code: ErrorCode.Conflict, cause: e });
  });

  it('passes on codes it does not name, meanings that decline, and results', async () => {
    const other = failed('42601');
    await expect(
      mapSqlStates(() => Promise.reject(other), { [SqlState.UniqueViolation]: conflict }),
    ).rejects.toBe(other);
    const elsewhere = failed(SqlState.UniqueViolation, 'pk_other');
    await expect(
      mapSqlStates(() => Promise.reject(elsewhere), {
        [SqlState.UniqueViolation]: (x) => (constraintOf(x) === 'uq_mine' ? conflict() : undefined),
      }),
    ).rejects.toBe(elsewhere);
    await expect(mapSqlStates(() => Promise.resolve(7), {})).resolves.toBe(7);
  });

  it.each(['22003', '22P02', '22021', '22P05'])(
    'turns %s (a value Postgres cannot store) into validation_failed',
    (code) => {
      expect(asStatementError(failed(code))).toMatchObject({
        code: ErrorCode.ValidationFailed,
        details: { errors: [{ field: 'request', message: 'value out of range or not representable' }] },
      });
    },
  );

  it('leaves every other failure alone', () => {
    const unique = failed(SqlState.UniqueViolation);
    expect(asStatementError(unique)).toBe(unique);
    const domain = new DomainError(ErrorCode.NotFound, 'x');
    expect(asStatementError(domain)).toBe(domain);
  });
});
