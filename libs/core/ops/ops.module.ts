import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { DependencyHealth } from './dependency-health.service';
import { MetricsService } from './metrics.service';

@Module({
  imports: [JobsModule],
  providers: [MetricsService, DependencyHealth],
  exports: [MetricsService, DependencyHealth, JobsModule],
})
export class OpsModule {}
