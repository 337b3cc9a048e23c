export * from './airlock-config';
export * from './config.module';
