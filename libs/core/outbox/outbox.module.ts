import { Module } from '@nestjs/common';
import { JobsModule } from '../../jobs';
import { OutboxRelayService } from './outbox-relay.service';

@Module({ imports: [JobsModule], providers: [OutboxRelayService], exports: [OutboxRelayService] })
export class OutboxModule {}
