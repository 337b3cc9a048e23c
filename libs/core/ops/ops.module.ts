import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { MetricsService } from './metrics.service';

@Module({ imports: [JobsModule], providers: [MetricsService], exports: [MetricsService, JobsModule] })
export class OpsModule {}
