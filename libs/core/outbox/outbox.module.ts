import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { OutboxRelayService } from './outbox-relay.service';
import { OutboxRepository } from './outbox.repository';

@Module({
  imports: [JobsModule],
  providers: [OutboxRepository, OutboxRelayService],
  exports: [OutboxRelayService],
})
export class OutboxModule {}
