import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { type Caller, TokenVerifier } from '../../../libs/core';
import { verifiedCaller } from './request-caller';

/**
 * passport's bearer strategy, backed by Airlock's verification of trusted issuers' JWTs. The
 * request comes along so that a verification the rate limiter already made for this request and
 * token is used again rather than repeated (request-caller.ts).
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly verifier: TokenVerifier) {
    super({ passReqToCallback: true });
  }

  validate(req: object, token: string): Promise<Caller> {
    return verifiedCaller(req, token, this.verifier);
  }
}
