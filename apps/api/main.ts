import { ConfigError, processConfig } from '../../libs/config';
import { JsonLogger } from '../../libs/core';
import { createApi } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = processConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`airlock api: ${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const logger = new JsonLogger(config.LOG_LEVEL, 'airlock-api');
  const app = await createApi(config, logger);
  await app.listen({ port: config.API_PORT, host: config.API_HOST });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.API_PORT;
  logger.pino.info({
    msg: 'listening',
    url: `http://${config.API_HOST}:${port}`,
    openapi: `/openapi.json`,
    docs: '/docs',
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`airlock api failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
