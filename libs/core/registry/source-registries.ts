import { Injectable } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import {
  type CredentialProfile,
  DomainError,
  ErrorCode,
  type SourceRule,
  type TargetMapping,
} from '../../domain';
import {
  type RegistryClient,
  type RegistryConfig,
  type RegistryCredentials,
  RegistryError,
  type RegistryTokenSupplier,
} from '../../oci';
import { RegistryClientFactory } from '../../oci/oci.module';
import { RegistryTokens } from './registry-tokens';

const TIMEOUT_MS = 15_000;

/**
 * A token supplier for pulls of one repository only: what a scan process, which parses archives
 * from anyone, may ask the worker for. Any other scope is refused before the profile is used.
 */
export function pullOf(repository: string, supplier: RegistryTokenSupplier): RegistryTokenSupplier {
  const allowed = `repository:${repository}:pull`;
  return (scope, challenge) => {
    const items = scope.split(' ').filter(Boolean);
    if (items.length > 0 && items.every((item) => item === allowed)) return supplier(scope, challenge);
    return Promise.reject(
      new RegistryError(
        'unauthorized',
        `a scan was asked for the scope "${scope.slice(0, 200)}"; only ${allowed} is given`,
        { permanent: true },
      ),
    );
  };
}

/**
 * A token supplier that asks only for pull: any scope of the challenge naming another action (push,
 * delete, `*`) is refused before the credential profile is used, so a reader cannot be handed (or
 * tricked into asking for) a token that writes.
 */
export function pullOnly(supplier: RegistryTokenSupplier): RegistryTokenSupplier {
  return (scope, challenge) => {
    for (const item of scope.split(' ').filter(Boolean)) {
      const actions = item.slice(item.lastIndexOf(':') + 1).split(',');
      if (!item.startsWith('repository:') || actions.some((a) => a !== 'pull')) {
        return Promise.reject(
          new RegistryError(
            'unauthorized',
            `a read-only client was asked for the scope "${item.slice(0, 200)}"; only pull is requested`,
            { permanent: true },
          ),
        );
      }
    }
    return supplier(scope, challenge);
  };
}

/**
 * The door to registries: a client only for a registry an environment names (a source rule or
 * the target), configured as the admin said. A registry a caller merely mentions is never
 * contacted.
 */
@Injectable()
export class SourceRegistries {
  constructor(
    private readonly factory: RegistryClientFactory,
    private readonly tokens: RegistryTokens,
    private readonly config: AirlockConfig,
  ) {}

  /** Every request's deadline and minimum rate: a slow registry cannot hold a worker slot. */
  private limits(): { deadlineMs: number; minBytesPerSecond: number } {
    return {
      deadlineMs: this.config.REGISTRY_DEADLINE_SECONDS * 1000,
      minBytesPerSecond: this.config.REGISTRY_MIN_BYTES_PER_SECOND,
    };
  }

  private credentials(profile: CredentialProfile | undefined): RegistryCredentials | undefined {
    return profile ? { tokenSupplier: this.tokens.supplierFor(profile) } : undefined;
  }

  /** A client for the environment's target registry, with its credential profile. */
  targetClient(target: TargetMapping): RegistryClient {
    return this.factory.create(this.targetConfig(target));
  }

  /** The target registry's configuration (for a client in another process: the copy process). */
  targetConfig(target: TargetMapping): RegistryConfig {
    return {
      host: target.registry,
      insecure: target.insecure ?? false,
      credentials: this.credentials(target.credentials),
      timeoutMs: TIMEOUT_MS,
      ...this.limits(),
    };
  }

  /**
   * A client that only reads the environment's target registry (drift checks): its tokens are
   * asked for with pull scopes only (pullOnly), from the same short-lived credential profile.
   */
  targetReader(target: TargetMapping): RegistryClient {
    return this.factory.create({
      host: target.registry,
      insecure: target.insecure ?? false,
      credentials: target.credentials
        ? { tokenSupplier: pullOnly(this.tokens.supplierFor(target.credentials)) }
        : undefined,
      timeoutMs: TIMEOUT_MS,
      ...this.limits(),
    });
  }

  clientFor(sources: readonly SourceRule[], registry: string): RegistryClient {
    return this.factory.create(this.sourceConfig(sources, registry));
  }

  /** A source registry's configuration, as `clientFor` uses it. */
  sourceConfig(sources: readonly SourceRule[], registry: string): RegistryConfig {
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
    return {
      host: rule.registry,
      insecure: rule.insecure ?? false,
      tokenRealms: rule.tokenRealms,
      redirectHosts: rule.redirectHosts,
      credentials: this.credentials(rule.credentials),
      timeoutMs: TIMEOUT_MS,
      ...this.limits(),
    };
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
