import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AirlockConfig, childProcessEnvironment } from '../../config';
import { type SourceRule, type TargetMapping } from '../../domain';
import {
  type CopyOptions,
  copyImage,
  RegistryProcessPool,
  type ImageCopyResult,
  type ProcessCopyResult,
} from '../../oci';
import { SourceRegistries } from '../registry/source-registries';

/** Where an image comes from: a source registry of the environment, and a repository on it. */
export interface CopyFrom {
  sources: readonly SourceRule[];
  registry: string;
  repository: string;
}

/** Where it goes: the environment's target registry, and a repository on it. */
export interface CopyTo {
  target: TargetMapping;
  repository: string;
}

/** A copy's result; from a copy process, with its account (memory, CPU, whether it was forked). */
export type PromoterCopyResult = ImageCopyResult &
  Partial<Pick<ProcessCopyResult, 'usage' | 'forked' | 'startMs'>>;

/**
 * Moves an image with its evidence (libs/oci `copyImage`) from a source to the target, in a copy
 * process of its own (PROMOTER_COPY_PROCESS=child, the default) or in the worker (`inline`). The
 * copy process gets the registries' configuration; their tokens stay here, asked for one scope at
 * a time as the registries challenge it, from the same credential profiles.
 */
@Injectable()
export class PromoterCopier implements OnApplicationShutdown {
  private readonly logger = new Logger(PromoterCopier.name);
  private readonly pool: RegistryProcessPool | undefined;

  constructor(
    config: AirlockConfig,
    private readonly registries: SourceRegistries,
  ) {
    this.pool =
      config.PROMOTER_COPY_PROCESS === 'child'
        ? new RegistryProcessPool({ role: 'copy', env: childProcessEnvironment() })
        : undefined;
  }

  async copy(
    from: CopyFrom,
    to: CopyTo,
    digest: string,
    options: CopyOptions = {},
  ): Promise<PromoterCopyResult> {
    if (this.pool === undefined) return this.copyInline(from, to, digest, options);
    const result = await this.pool.copy(
      { registry: this.registries.sourceConfig(from.sources, from.registry), repository: from.repository },
      { registry: this.registries.targetConfig(to.target), repository: to.repository },
      digest,
      options,
    );
    this.logger.debug({
      msg: 'copy process done',
      digest,
      forked: result.forked,
      peakRss: result.usage.peakRss,
      cpuMs: Math.round(result.usage.cpuMs),
    });
    return result;
  }

  private async copyInline(
    from: CopyFrom,
    to: CopyTo,
    digest: string,
    options: CopyOptions,
  ): Promise<ImageCopyResult> {
    const source = this.registries.clientFor(from.sources, from.registry);
    const target = this.registries.targetClient(to.target);
    try {
      return await copyImage(
        { client: source, repository: from.repository },
        { client: target, repository: to.repository },
        digest,
        options,
      );
    } finally {
      source.close();
      target.close();
    }
  }

  onApplicationShutdown(): void {
    this.pool?.close();
  }
}
