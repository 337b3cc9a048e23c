import { Module } from '@nestjs/common';
import { HostGuard } from './host-guard';
import { HostResolver } from './host-resolver';

@Module({ providers: [HostResolver, HostGuard], exports: [HostGuard, HostResolver] })
export class OutboundModule {}
