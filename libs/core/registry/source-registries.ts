import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, type SourceRule } from '../../domain';
import { type RegistryClient } from '../../oci';
import { RegistryClientFactory } from '../../oci/oci.module';

const TIMEOUT_MS = 15_000;

/**
 * The door to source registries: a client only for a registry an environment's source rules
 * name, configured as the admin said. A registry a caller merely mentions is never contacted.
 */
@Injectable()
export class SourceRegistries {
  constructor(private readonly factory: RegistryClientFactory) {}

  clientFor(sources: readonly SourceRule[], registry: string): RegistryClient {
    const rule = sources.find((s) => s.registry === registry);
    if (!rule) {
      throw new DomainError(
        ErrorCode.SourceNotAllowed,
        `${registry} is not a source registry of this environment`,
        {
          registry,
        },
      );
    }
    return this.factory.create({
      host: rule.registry,
      insecure: rule.insecure ?? false,
      tokenRealms: rule.tokenRealms,
      redirectHosts: rule.redirectHosts,
      timeoutMs: TIMEOUT_MS,
    });
  }

  /** Runs `work` with a client for the registry and closes it afterwards. */
  async with<T>(
    sources: readonly SourceRule[],
    registry: string,
    work: (c: RegistryClient) => Promise<T>,
  ): Promise<T> {
    const client = this.clientFor(sources, registry);
    try {
      return await work(client);
    } finally {
      client.close();
    }
  }
}
