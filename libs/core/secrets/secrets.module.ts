import { Module } from '@nestjs/common';
import { SecretStore } from './secret-store';

@Module({ providers: [SecretStore], exports: [SecretStore] })
export class SecretsModule {}
