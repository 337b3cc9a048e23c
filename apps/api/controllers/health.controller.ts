import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { DependencyHealth, MetricsService, type Readiness } from '../../../libs/core';
import { Public } from '../auth/auth.decorators';

@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: DependencyHealth,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers. */
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Liveness',
    description: 'Answers 200 while the process serves requests. Needs no token.',
    security: [],
  })
  @Get('healthz')
  @ApiOkResponse({ description: 'The process is alive' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Postgres and Redis both answer within DEPENDENCY_TIMEOUT_MS, and Redis will not
   * evict queued jobs (maxmemory-policy noeviction, when CONFIG GET can tell).
   */
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness',
    description:
      'Answers 200 when Postgres and Redis answer within the dependency timeout, 503 naming the one that does not. Needs no token.',
    security: [],
  })
  @Get('readyz')
  @ApiOkResponse({ description: 'Postgres and Redis are reachable' })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is unreachable or unsafe; `reasons` says which',
  })
  async readyz(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Omit<Readiness, 'ready'> & { status: 'ready' | 'unready' }> {
    const { ready, ...rest } = await this.health.readiness();
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unready', ...rest };
  }

  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      'Promotions by status, queue depths, check durations and process metrics, in Prometheus text format. Needs no token.',
    security: [],
  })
  @Get('metrics')
  @ApiExcludeEndpoint()
  async prometheus(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}
