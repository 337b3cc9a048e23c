import { Module } from '@nestjs/common';
import { Clock } from '../common/clock';
import { EnvironmentModule } from '../environment/environment.module';
import { PolicyModule } from '../policy/policy.module';
import { GateRepository } from './gate.repository';
import { PromotionGateService } from './gate.service';

@Module({
  imports: [EnvironmentModule, PolicyModule],
  providers: [GateRepository, PromotionGateService, Clock],
  exports: [PromotionGateService],
})
export class GateModule {}
