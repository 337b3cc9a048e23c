import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { DependencyHealth } from './dependency-health.service';
import { MetricsService } from './metrics.service';
import { OpsRepository } from './ops.repository';

@Module({
  imports: [JobsModule],
  providers: [OpsRepository, MetricsService, DependencyHealth],
  exports: [MetricsService, DependencyHealth, JobsModule],
})
export class OpsModule {}
