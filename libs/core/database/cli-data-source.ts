import { DataSource } from 'typeorm';
import { databaseConfig } from '../../config';
import { dataSourceOptions } from './data-source';

/** For the typeorm CLI: `typeorm migration:generate -d dist/libs/core/database/cli-data-source.js`. */
export default new DataSource(dataSourceOptions(databaseConfig().migrationUrl, 2));
