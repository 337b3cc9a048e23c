import { Global, Module } from '@nestjs/common';
import { AirlockConfig, processConfig } from './airlock-config';

/** Makes the validated configuration injectable as `AirlockConfig`. */
@Global()
@Module({
  providers: [{ provide: AirlockConfig, useFactory: processConfig }],
  exports: [AirlockConfig],
})
export class ConfigModule {}
