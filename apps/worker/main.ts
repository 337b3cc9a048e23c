import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, processConfig } from '../../libs/config';
import { JsonLogger } from '../../libs/core';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  let config;
  try {
    config = processConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`airlock worker: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const logger = new JsonLogger(config.LOG_LEVEL, 'airlock-worker');
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger });
  app.enableShutdownHooks();
}

main().catch((e: unknown) => {
  process.stderr.write(`airlock worker failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
