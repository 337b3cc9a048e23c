import { Injectable, Module } from '@nestjs/common';

import { RegistryClient } from './registry-client';
import type { RegistryConfig } from './registry-config';

/**
 * Makes RegistryClients for registries an admin configured (an environment's source or target).
 * Callers own the client: `close()` it when done. Credentials are handed in per client, so one
 * promotion's short-lived token never serves another.
 */
@Injectable()
export class RegistryClientFactory {
  create(config: RegistryConfig): RegistryClient {
    return new RegistryClient(config);
  }
}

@Module({ providers: [RegistryClientFactory], exports: [RegistryClientFactory] })
export class OciModule {}
