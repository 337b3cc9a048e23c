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
  IdentityModule,
  OpsModule,
  PolicyModule,
  PromotionModule,
  VerificationModule,
} from '../../libs/core';
import { TrustModule } from '../../libs/trust/trust.module';
import { BearerStrategy } from './auth/bearer.strategy';
import { GlobalAuthGuard } from './auth/global-auth.guard';
import { AdvisoriesController } from './controllers/advisories.controller';
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
    PolicyModule,
    PromotionModule,
    OpsModule,
    ApprovalModule,
    AdvisoryModule,
    ChangeModule,
    TrustModule,
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
