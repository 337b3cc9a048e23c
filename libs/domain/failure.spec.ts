import { DomainError, ErrorCode } from './errors';
import { classifyFailure, Failure, isPermanentFailure } from './failure';

describe(classifyFailure.name, () => {
  it('takes a Failure as it says', () => {
    expect(classifyFailure(Failure.permanent('tag conflict')).permanent).toBe(true);
    expect(classifyFailure(Failure.transient('registry away')).permanent).toBe(false);
  });

  it('counts anything else thrown as transient, keeping its message and cause', () => {
    const cause = new Error('connection terminated unexpectedly');
    const f = classifyFailure(cause);
    expect({ permanent: f.permanent, message: f.message, cause: f.cause }).toEqual({
      permanent: false,
      message: 'connection terminated unexpectedly',
      cause,
    });
    expect(classifyFailure('a string').message).toBe('a string');
  });

  // "Not now" codes retry; every other code is an answer that a retry would only repeat.
  it.each([
    [ErrorCode.RegistryUnavailable, false],
    [ErrorCode.DatabaseUnavailable, false],
    [ErrorCode.QueueUnavailable, false],
    [ErrorCode.RateLimited, false],
    [ErrorCode.IdempotencyKeyInProgress, false],
    [ErrorCode.RegistryRefused, true],
    [ErrorCode.NotFound, true],
    [ErrorCode.SourceNotAllowed, true],
    [ErrorCode.HostNotAllowed, true],
    [ErrorCode.ValidationFailed, true],
    [ErrorCode.Conflict, true],
  ])('DomainError %s: permanent %s', (code, permanent) => {
    const e = new DomainError(code, 'x');
    expect(e).toBeInstanceOf(Failure);
    expect(isPermanentFailure(e)).toBe(permanent);
  });
});
