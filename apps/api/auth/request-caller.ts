import { type Caller, type TokenVerifier } from '../../../libs/core';

const VERIFIED = Symbol('airlock.verifiedCaller');

type WithVerified = object & { [VERIFIED]?: { token: string; caller: Promise<Caller> } };

/**
 * The caller a bearer token names, verified once per request: the rate limiter (which needs the
 * caller to know whose budget a request spends) and the auth guard share the verification, and so
 * its read of the identity generation. Kept on the request object for that request only, and only
 * for the very token asked about: a different token (which the two readers of the header could
 * only disagree on for a malformed header) is verified on its own. A refusal is shared too.
 */
export function verifiedCaller(req: object, token: string, verifier: TokenVerifier): Promise<Caller> {
  const r = req as WithVerified;
  const known = r[VERIFIED];
  if (known && known.token === token) return known.caller;
  const caller = verifier.verify(token);
  // Whoever reads it later handles a refusal; kept here, it must not count as unhandled meanwhile.
  caller.catch(() => undefined);
  r[VERIFIED] = { token, caller };
  return caller;
}
