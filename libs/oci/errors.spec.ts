import { classifyFailure } from '../domain/failure';
import { RegistryError, type RegistryErrorKind } from './errors';

describe(RegistryError.name, () => {
  // What a registry can answer, and whether asking again can change it.
  it.each<[RegistryErrorKind, boolean, string]>([
    ['unavailable', false, 'network, 5xx, 429, timeouts, a transfer cut at the deadline or minimum rate'],
    ['digest_mismatch', true, 'bytes that do not hash to their digest: a substituted manifest or blob'],
    ['too_large', true, 'over a size limit, or endless'],
    ['denied', true, 'a redirect or upload location to a host nobody allowed, a 403'],
    ['unauthorized', true, 'a token realm nobody allowed, refused credentials'],
    ['protocol', true, 'malformed answers'],
    ['not_found', true, 'nothing there'],
    ['invalid_request', true, 'our own request was wrong'],
  ])('%s: permanent %s (%s)', (kind, permanent) => {
    const e = new RegistryError(kind, 'x');
    expect(e.permanent).toBe(permanent);
    expect(classifyFailure(e)).toBe(e);
  });

  it('lets the thrower override the kind: an expired token mid-upload is worth another try', () => {
    expect(new RegistryError('unauthorized', 'x', { permanent: false }).permanent).toBe(false);
    expect(new RegistryError('unavailable', 'x', { permanent: true }).permanent).toBe(true);
  });
});
