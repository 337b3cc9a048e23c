import { Module } from '@nestjs/common';
import { TrustModule } from '../../trust/trust.module';
import { EnvironmentModule } from '../environment/environment.module';
import { PromotionModule } from '../promotion/promotion.module';
import { GateModule } from '../gate/gate.module';
import { RegistryModule } from '../registry/registry.module';
import { PromoterCopier } from './promoter-copier';
import { PromoterService } from './promoter.service';

@Module({
  imports: [PromotionModule, EnvironmentModule, RegistryModule, TrustModule, GateModule],
  providers: [PromoterService, PromoterCopier],
  exports: [PromoterService],
})
export class PromoterModule {}
