import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ConfigModule } from '../../libs/config';
import {
  AdvisoryModule,
  ApprovalModule,
  AuditModule,
  ChangeModule,
  DatabaseModule,
  DriftModule,
  EnvironmentModule,
  GateModule,
  EvaluationModule,
  IdentityModule,
  OpsModule,
  PolicyModule,
  PromotionModule,
  WebhookModule,
  WaiverModule,
  VerificationModule,
} from '../../libs/core';
import { TrustModule } from '../../libs/trust/trust.module';
import { BearerStrategy } from './auth/bearer.strategy';
import { GlobalAuthGuard } from './auth/global-auth.guard';
import { AdvisoriesController } from './controllers/advisories.controller';
import { ArtifactsController } from './controllers/artifacts.controller';
import { ApprovalsController } from './controllers/approvals.controller';
import { AuditController } from './controllers/audit.controller';
import { ChangesController } from './controllers/changes.controller';
import { DriftController } from './controllers/drift.controller';
import { VerificationController } from './controllers/verification.controller';
import { EnvironmentsController } from './controllers/environments.controller';
import { HealthController } from './controllers/health.controller';
import { IdentityController } from './controllers/identity.controller';
import { KeysController } from './controllers/keys.controller';
import { PromotionsController } from './controllers/promotions.controller';
import { WebhooksController } from './controllers/webhooks.controller';
import { WaiversController } from './controllers/waivers.controller';
import { ProblemFilter } from './http/problem.filter';
import { RefusalRecorder } from './http/refusal-recorder';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    PassportModule,
    AuditModule,
    IdentityModule,
    EnvironmentModule,
    EvaluationModule,
    PolicyModule,
    PromotionModule,
    GateModule,
    OpsModule,
    ApprovalModule,
    AdvisoryModule,
    ChangeModule,
    TrustModule,
    WebhookModule,
    WaiverModule,
    DriftModule,
    VerificationModule,
  ],
  controllers: [
    HealthController,
    PromotionsController,
    ApprovalsController,
    EnvironmentsController,
    IdentityController,
    AuditController,
    AdvisoriesController,
    ChangesController,
    KeysController,
    ArtifactsController,
    WebhooksController,
    WaiversController,
    DriftController,
    VerificationController,
  ],
  providers: [
    BearerStrategy,
    RefusalRecorder,
    { provide: APP_GUARD, useClass: GlobalAuthGuard },
    { provide: APP_FILTER, useClass: ProblemFilter },
  ],
})
export class ApiModule {}
