import { Logger } from '@nestjs/common';
import { DomainError, errorChain, ErrorCode } from '../../domain';

/**
 * The one place that reads Postgres error codes (SQLSTATE, PostgreSQL's appendix A): repositories
 * turn them into domain errors here, so no service ever tests a driver code. Outages (class 08,
 * 57P0x) are told apart in database-outage.ts, which calls this for everything else.
 */
export const SqlState = {
  UniqueViolation: '23505',
  NumericValueOutOfRange: '22003',
  InvalidTextRepresentation: '22P02',
  CharacterNotInRepertoire: '22021',
  UntranslatableCharacter: '22P05',
} as const;
export type SqlState = (typeof SqlState)[keyof typeof SqlState];

/**
 * Data exceptions that only a value from the request can cause (a number out of the column's
 * range, a NUL character in text or JSON): the request is bad, not the server.
 */
const BAD_VALUE: ReadonlySet<string> = new Set<string>([
  SqlState.NumericValueOutOfRange,
  SqlState.InvalidTextRepresentation,
  SqlState.CharacterNotInRepertoire,
  SqlState.UntranslatableCharacter,
]);

const logger = new Logger('database');

/** The SQLSTATE a failed statement carries (TypeORM keeps pg's error as driverError), or undefined. */
export function sqlStateOf(e: unknown): string | undefined {
  for (const x of errorChain(e)) {
    if (typeof x.code === 'string' && /^[0-9A-Z]{5}$/.test(x.code)) return x.code;
  }
  return undefined;
}

/** The constraint a failed statement violated (pg reports its name), or undefined. */
export function constraintOf(e: unknown): string | undefined {
  for (const x of errorChain(e)) {
    const c = (x as { constraint?: unknown }).constraint;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/**
 * A statement's failure as a domain error where its code says what it means whatever the
 * statement: a value Postgres cannot store is validation_failed. Anything else is left alone.
 */
export function asStatementError(e: unknown): unknown {
  if (e instanceof DomainError) return e;
  const code = sqlStateOf(e);
  if (code === undefined || !BAD_VALUE.has(code)) return e;
  // A value no validator caught: a client error, but worth a rule where it came in.
  logger.warn({ msg: 'database refused a request value', sqlstate: code });
  return Object.assign(
    new DomainError(
      ErrorCode.ValidationFailed,
      'a value in the request is out of range or contains characters that cannot be stored (such as NUL)',
      { errors: [{ field: 'request', message: 'value out of range or not representable' }] },
    ),
    { cause: e },
  );
}

/**
 * Runs a repository's statement(s), turning the SQLSTATEs it names into the domain errors they
 * mean for this statement (a unique violation is "already exists" on one table and "lost a race"
 * on another, so only the repository can say). A meaning may decline (undefined: say, another
 * constraint than the one it knows); other errors pass through unchanged.
 */
export async function mapSqlStates<T>(
  work: () => Promise<T>,
  meanings: Partial<Record<SqlState, (e: unknown) => DomainError | undefined>>,
): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const code = sqlStateOf(e) as SqlState | undefined;
    const mapped = code === undefined ? undefined : meanings[code]?.(e);
    throw mapped ? Object.assign(mapped, { cause: e }) : e;
  }
}
