import { Injectable, Logger } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { JobQueue } from '../../jobs';
import { type ReconcileReport, Reconciler } from './reconcile-pass';
import { ReconcileRepository } from './reconcile.repository';

/** The reconciler (reconcile-pass.ts) wired to Postgres, BullMQ and the configuration. */
@Injectable()
export class ReconcilerService {
  private readonly reconciler: Reconciler;

  constructor(repo: ReconcileRepository, jobs: JobQueue, config: AirlockConfig) {
    this.reconciler = new Reconciler(
      repo,
      jobs,
      config.RECONCILE_AFTER_MS,
      new Logger(ReconcilerService.name),
    );
  }

  /** One pass; null when another process is running one (or Redis is unreachable right now). */
  reconcile(): Promise<ReconcileReport | null> {
    return this.reconciler.reconcile();
  }
}
