import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AirlockConfig } from '../../config';
import { dataSourceOptions } from './data-source';
import { PgListener } from './pg-listener';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AirlockConfig],
      useFactory: (c: AirlockConfig) => ({
        ...dataSourceOptions(c.DATABASE_URL, c.DATABASE_POOL_SIZE),
        migrations: [],
      }),
    }),
  ],
  providers: [PgListener],
  exports: [PgListener],
})
export class DatabaseModule {}
