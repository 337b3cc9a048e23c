import { Module } from '@nestjs/common';
import { AirlockConfig } from '../config';
import { SigningKey } from './signing-key';

@Module({
  providers: [
    {
      provide: SigningKey,
      inject: [AirlockConfig],
      useFactory: (c: AirlockConfig) => SigningKey.fromFile(c.AIRLOCK_SIGNING_KEY_FILE),
    },
  ],
  exports: [SigningKey],
})
export class TrustModule {}
