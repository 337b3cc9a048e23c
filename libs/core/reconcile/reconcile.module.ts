import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { ReconcileRepository } from './reconcile.repository';
import { ReconcilerService } from './reconciler.service';

@Module({
  imports: [JobsModule],
  providers: [ReconcileRepository, ReconcilerService],
  exports: [ReconcilerService],
})
export class ReconcileModule {}
