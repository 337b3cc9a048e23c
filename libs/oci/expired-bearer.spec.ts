import { expiredBearer } from './registry-client';

const jwt = (claims: object): string =>
  `Bearer e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe(expiredBearer.name, () => {
  it('names the instant a Bearer JWT expired at, once it is past', () => {
    expect(expiredBearer(jwt({ exp: 1_000 }), 1_000_000)).toEqual(new Date(1_000_000));
    expect(expiredBearer(jwt({ exp: 1_000 }), 2_000_000)).toEqual(new Date(1_000_000));
  });

  it('says nothing of a live token, an opaque one, Basic credentials or none', () => {
    expect(expiredBearer(jwt({ exp: 1_000 }), 999_999)).toBeUndefined();
    expect(expiredBearer(jwt({}), 0)).toBeUndefined();
    expect(expiredBearer('Bearer opaque-token', 0)).toBeUndefined();
    expect(expiredBearer('Bearer a.!!!.c', 0)).toBeUndefined();
    expect(expiredBearer('Basic dXNlcjpwdw==', 0)).toBeUndefined();
    expect(expiredBearer(undefined, 0)).toBeUndefined();
  });
});
