import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
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
  @Get('healthz')
  @ApiOkResponse({ description: 'The process is alive' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: Postgres and Redis both answer within DEPENDENCY_TIMEOUT_MS, and Redis will not
   * evict queued jobs (maxmemory-policy noeviction, when CONFIG GET can tell).
   */
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

  @Get('metrics')
  @ApiExcludeEndpoint()
  async prometheus(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}
