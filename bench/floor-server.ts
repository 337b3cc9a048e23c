// The benchmark's floor: the least a NestJS (Fastify) service on this stack can do per request.
// Same DataSource options and pool size as the API, the API's ValidationPipe, no auth, no logging.
// One statement per request. Started by bench/run.ts as its own process:
//   DATABASE_URL=postgres://… [DATABASE_POOL_SIZE=10] node dist/bench/floor-server.js
// Prints {"event":"listening","url":…} on stdout when it accepts requests.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { validationPipe } from '../apps/api/http/validation';
import { dataSourceOptions } from '../libs/core/database/data-source';
import { ENVIRONMENT_NAME } from '../libs/core/environment/environment.dto';

class FloorInsertDto {
  @IsString()
  @MaxLength(512)
  artifact!: string;

  @IsString()
  @Matches(ENVIRONMENT_NAME)
  environment!: string;
}

class FloorPageQuery {
  @IsOptional()
  @Matches(/^\d{1,19}$/)
  before?: string;
}

const MAX_SEQ = '9223372036854775807';

@Controller('floor')
class FloorController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Post('insert')
  @HttpCode(201)
  async insert(@Body() dto: FloorInsertDto): Promise<{ id: string; createdAt: string }> {
    const id = randomUUID();
    const rows: Array<{ created_at: Date }> = await this.db.query(
      'INSERT INTO bench_floor (id, artifact, environment, created_at) VALUES ($1, $2, $3, now()) RETURNING created_at',
      [id, dto.artifact, dto.environment],
    );
    return { id, createdAt: rows[0].created_at.toISOString() };
  }

  @Get('select/:id')
  async select(@Param('id', new ParseUUIDPipe()) id: string): Promise<Record<string, unknown>> {
    const rows: Array<Record<string, unknown>> = await this.db.query(
      'SELECT * FROM promotion WHERE id = $1',
      [id],
    );
    if (rows.length === 0) throw new NotFoundException();
    return rows[0];
  }

  @Get('page')
  async page(
    @Query() q: FloorPageQuery,
  ): Promise<{ items: Array<Record<string, unknown>>; nextCursor: string | null }> {
    const rows: Array<Record<string, unknown> & { seq: string }> = await this.db.query(
      'SELECT * FROM promotion WHERE seq < $1 ORDER BY seq DESC LIMIT 51',
      [q.before ?? MAX_SEQ],
    );
    const items = rows.slice(0, 50);
    return { items, nextCursor: rows.length > 50 ? items[items.length - 1].seq : null };
  }
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? '10');

  @Module({
    imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(url, poolSize), migrations: [] })],
    controllers: [FloorController],
  })
  class FloorModule {}

  const app = await NestFactory.create<NestFastifyApplication>(FloorModule, new FastifyAdapter(), {
    logger: ['error', 'warn'],
  });
  app.useGlobalPipes(validationPipe);
  app.enableShutdownHooks();
  await app.listen({ port: Number(process.env.PORT ?? '0'), host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}` })}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`floor server failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
