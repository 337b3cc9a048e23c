import { Module } from '@nestjs/common';
import { ConfigModule } from '../../libs/config';
import {
  ApprovalModule,
  AuditModule,
  CheckModule,
  DatabaseModule,
  DriftModule,
  OpsModule,
  OutboxModule,
  PromoterModule,
  ReconcileModule,
  VerificationModule,
  WaiverModule,
  WebhookModule,
} from '../../libs/core';
import { JobHandlers } from './job-handlers';
import { JobProcessor } from './job-processor';
import { Maintenance } from './maintenance';

/** The worker: an application context with no HTTP server, consuming the queue. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    AuditModule,
    OutboxModule,
    CheckModule,
    OpsModule,
    ApprovalModule,
    PromoterModule,
    ReconcileModule,
    WebhookModule,
    DriftModule,
    VerificationModule,
    WaiverModule,
  ],
  providers: [JobHandlers, JobProcessor, Maintenance],
})
export class WorkerModule {}
