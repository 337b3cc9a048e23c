import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import {
  type AuditCheckpoint,
  type AuditVerification,
  type ChainLink,
  checkpointPayload,
  VerificationKeys,
  verifyAuditChain,
} from '../../domain';
import { SigningKey } from '../../trust';
import { AuditCheckpointStore } from './audit-checkpoint.store';
import { type AuditQuery, type AuditRecord, AuditRepository } from './audit.repository';

const PAGE = 1000;

/**
 * The audit trail: recording (inside the caller's transaction), sealing pending events into the
 * hash chain, verification and signed checkpoints.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private sealing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: AuditRepository,
    private readonly checkpoints: AuditCheckpointStore,
    private readonly key: SigningKey,
    private readonly keys: VerificationKeys,
    private readonly config: AirlockConfig,
  ) {}

  onModuleInit(): void {
    // Pending events are sealed in batches every second, and at once before any read of the trail.
    this.timer = setInterval(() => this.sealSoon(), 1000);
    this.timer.unref();
    this.sealSoon();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  record(record: AuditRecord): Promise<void> {
    return this.repo.record(record);
  }

  /** Seals everything pending now; concurrent callers share one run. */
  async sealNow(): Promise<void> {
    this.sealSoon();
    while (this.sealing) await this.sealing;
  }

  private sealSoon(): void {
    if (this.sealing) {
      this.again = true;
      return;
    }
    this.sealing = (async () => {
      try {
        do {
          this.again = false;
          while ((await this.repo.sealBatch()) > 0);
        } while (this.again);
      } catch (e) {
        this.logger.error({ msg: 'sealing audit events failed; will retry', error: String(e) });
      } finally {
        this.sealing = undefined;
      }
    })();
  }

  async list(q: AuditQuery): Promise<ChainLink[]> {
    await this.sealNow();
    return this.repo.query(q);
  }

  /** Every link in order, page by page (for verification and export). */
  async *allLinks(): AsyncGenerator<ChainLink> {
    await this.sealNow();
    let after = '0';
    for (;;) {
      const page = await this.repo.linksAfter(after, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1].seq;
    }
  }

  async verify(): Promise<AuditVerification> {
    // Every key of the set: checkpoints signed before a rotation verify with the key of their time.
    return verifyAuditChain(this.allLinks(), await this.checkpoints.all(), this.keys);
  }

  /** Signs the current head and appends it to the checkpoint file. */
  async checkpoint(): Promise<AuditCheckpoint> {
    await this.sealNow();
    const head = await this.repo.head();
    const unsigned = {
      seq: head.seq,
      hash: head.hash,
      issuedAt: new Date().toISOString(),
      keyId: this.key.keyId,
    };
    const checkpoint: AuditCheckpoint = {
      ...unsigned,
      signature: this.key.sign(checkpointPayload(unsigned)).toString('base64'),
    };
    await this.checkpoints.append(checkpoint);
    return checkpoint;
  }

  listCheckpoints(): Promise<AuditCheckpoint[]> {
    return this.checkpoints.all();
  }

  get publicKeyPem(): string {
    return this.key.publicKeyPem;
  }

  get checkpointIntervalSeconds(): number {
    return this.config.AUDIT_CHECKPOINT_INTERVAL_SECONDS;
  }
}
