import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { type Caller, TokenVerifier } from '../../../libs/core';

/** passport's bearer strategy, backed by Airlock's verification of trusted issuers' JWTs. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly verifier: TokenVerifier) {
    super();
  }

  validate(token: string): Promise<Caller> {
    return this.verifier.verify(token);
  }
}
