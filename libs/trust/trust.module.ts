import { Module } from '@nestjs/common';
import { AirlockConfig } from '../config';
import { VerificationKeys } from '../domain/signing-key-set';
import { loadVerificationKeys } from './previous-keys';
import { SigningKey } from './signing-key';

@Module({
  providers: [
    {
      provide: SigningKey,
      inject: [AirlockConfig],
      useFactory: (c: AirlockConfig) => SigningKey.fromFile(c.AIRLOCK_SIGNING_KEY_FILE),
    },
    {
      // The current key and the earlier ones, checked at start (a bad file stops the process).
      provide: VerificationKeys,
      inject: [AirlockConfig, SigningKey],
      useFactory: (c: AirlockConfig, key: SigningKey) =>
        loadVerificationKeys(key, c.AIRLOCK_PREVIOUS_KEYS_FILE),
    },
  ],
  exports: [SigningKey, VerificationKeys],
})
export class TrustModule {}
