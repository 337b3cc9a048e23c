import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { type AuditCheckpoint, type ChainLink, checkpointPayload } from '../../domain';
import { SigningKey } from '../../trust';
import { AuditCheckpointStore } from './audit-checkpoint.store';
import { type AuditQuery, type AuditRecord, AuditRepository, SEAL_BATCH } from './audit.repository';

const PAGE = 5000;

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
    private readonly config: AirlockConfig,
  ) {}

  onModuleInit(): void {
    // Pending events are sealed in batches every second; reads show what is sealed and say how
    // many are pending rather than waiting for a backlog (a checkpoint still seals first).
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
        // On until a batch comes back short of full: the table was empty as of that batch. Events
        // committed after it wait for the next tick (or sealNow) rather than starting a batch
        // each: under steady intake that was a transaction of six statements per few events, in
        // every process.
        do {
          this.again = false;
          while ((await this.repo.sealBatch()) === SEAL_BATCH);
        } while (this.again);
      } catch (e) {
        this.logger.error({ msg: 'sealing audit events failed; will retry', error: String(e) });
      } finally {
        this.sealing = undefined;
      }
    })();
  }

  /**
   * Sealed events only: a read does not wait for the sealer (which keeps sealing every second);
   * `pending` says how many recorded events it does not show yet.
   */
  async list(q: AuditQuery): Promise<{ items: ChainLink[]; pending: number }> {
    const [items, pending] = await Promise.all([this.repo.query(q), this.repo.pendingCount()]);
    return { items, pending };
  }

  /** How many recorded events wait to be sealed into the chain. */
  pendingCount(): Promise<number> {
    return this.repo.pendingCount();
  }

  /**
   * The sealed chain from `fromSeq` (inclusive; 1: the genesis) up to the head when asked, page by
   * page with the next page fetched while this one is written: for export. `headSeq` bounds it, so
   * an export during intake is one consistent range (the response says which).
   */
  async exportRange(
    fromSeq: string,
  ): Promise<{ fromSeq: string; headSeq: string; pages: AsyncIterable<ChainLink[]> }> {
    const head = await this.repo.head();
    const after = String(BigInt(fromSeq) - 1n);
    return { fromSeq, headSeq: head.seq, pages: this.repo.pages(after, head.seq, PAGE) };
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
