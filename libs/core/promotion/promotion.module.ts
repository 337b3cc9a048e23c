import { Module } from '@nestjs/common';
import { EnvironmentModule } from '../environment/environment.module';
import { JobsModule } from '../../jobs';
import { GateModule } from '../gate/gate.module';
import { RegistryModule } from '../registry/registry.module';
import { PromotionRepository } from './promotion.repository';
import { PromotionService } from './promotion.service';
import { PromotionStateMachine } from './promotion-state-machine';
import { PromotionTransitionRepository } from './promotion-transitions.repository';
import { RollbackService } from './rollback.service';

@Module({
  imports: [EnvironmentModule, RegistryModule, JobsModule, GateModule],
  providers: [
    PromotionRepository,
    PromotionTransitionRepository,
    PromotionStateMachine,
    PromotionService,
    RollbackService,
  ],
  exports: [PromotionRepository, PromotionStateMachine, PromotionService, RollbackService],
})
export class PromotionModule {}
