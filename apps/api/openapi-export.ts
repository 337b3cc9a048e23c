// Writes the OpenAPI document to a file (`npm run openapi` → docs/openapi.json) without starting
// the server or touching a database: Nest's preview mode builds the route metadata only.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './app.module';
import { buildOpenApi } from './openapi';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'docs/openapi.json';
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  writeFileSync(out, `${JSON.stringify(buildOpenApi(app), null, 2)}\n`);
  await app.close();
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
