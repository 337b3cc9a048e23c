import { Module } from '@nestjs/common';
import { JobQueue } from './job-queue';
import { WakeBus } from './wake-bus';

@Module({ providers: [JobQueue, WakeBus], exports: [JobQueue, WakeBus] })
export class JobsModule {}
