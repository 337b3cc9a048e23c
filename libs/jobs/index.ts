export * from './job.types';
export * from './job-queue';
export * from './jobs.module';
export * from './redis-connection';
export * from './wake-bus';
export * from './queue-outage';
export * from './job-failure';
