import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AirlockConfig } from '../../config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';
import { translateDatabaseOutages } from './database-outage';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AirlockConfig],
      useFactory: (c: AirlockConfig) => ({
        ...dataSourceOptions(c.DATABASE_URL, c.DATABASE_POOL_SIZE, c.DEPENDENCY_TIMEOUT_MS),
        migrations: [],
      }),
      // An unreachable Postgres surfaces as database_unavailable from every query (see there).
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('no data source options');
        return translateDatabaseOutages(new DataSource(options));
      },
    }),
  ],
})
export class DatabaseModule {}
