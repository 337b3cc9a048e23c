import { Injectable, Logger } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import {
  type AuditCheckpoint,
  type AuditVerification,
  newestProvenCheckpoint,
  notFound,
  VerificationKeys,
  verifyAuditChain,
} from '../../domain';
import { type Actor, actorKey } from '../identity/actor';
import { AuditCheckpointStore } from './audit-checkpoint.store';
import {
  type AuditVerificationEntity,
  AuditVerificationStatus,
  FINISHED_VERIFICATION,
  VerificationStart,
} from './audit-verification.entity';
import { AuditVerificationRepository } from './audit-verification.repository';
import { AuditRepository } from './audit.repository';

/** Links per page of a walk: big enough that a page's round trip is small beside hashing it. */
const WALK_PAGE = 5000;
/** How often a walk records its progress and looks for a cancel request. */
const PROGRESS_EVERY_MS = 250;

/** A walk stopped before its end: asked to, or nobody is waiting for it any more. */
class WalkStopped extends Error {
  constructor(readonly reason: 'cancelled' | 'abandoned') {
    super(reason === 'cancelled' ? 'cancelled on request' : 'abandoned: no client asked about it');
  }
}

/** A verification as the API shows it. */
export interface AuditVerificationView {
  id: string;
  status: AuditVerificationStatus;
  /** What was asked for, and where the walk starts (no proven checkpoint yet: the genesis). */
  requestedStart: VerificationStart;
  start: VerificationStart;
  /** The walk covers the links after `fromSeq` up to `toSeq` (the head when it was asked for). */
  fromSeq: string;
  toSeq: string;
  /** The checkpoint an incremental walk starts from (proven by an earlier verification). */
  anchor: AuditCheckpoint | null;
  /** Events recorded but not yet sealed when the walk was asked for: not covered by it. */
  pendingAtStart: number;
  progress: { checked: number; total: number };
  /** The outcome once completed: true when every link and checkpoint holds. */
  ok: boolean | null;
  report: AuditVerification | null;
  /** The newest checkpoint this walk proved: the next incremental walk starts there. */
  provenCheckpoint: { seq: string; hash: string } | null;
  error: string | null;
  requestedBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export function verificationView(v: AuditVerificationEntity): AuditVerificationView {
  const total = Number(BigInt(v.toSeq) - BigInt(v.fromSeq));
  return {
    id: v.id,
    status: v.status,
    requestedStart: v.requestedStart,
    start: v.start,
    fromSeq: v.fromSeq,
    toSeq: v.toSeq,
    anchor: v.anchor,
    pendingAtStart: v.pendingAtStart,
    progress: { checked: Number(v.checked), total },
    ok: v.ok,
    report: v.report,
    provenCheckpoint: v.provenCheckpoint
      ? { seq: v.provenCheckpoint.seq, hash: v.provenCheckpoint.hash }
      : null,
    error: v.error,
    requestedBy: actorKey(v.requestedBy),
    createdAt: v.createdAt.toISOString(),
    startedAt: v.startedAt?.toISOString() ?? null,
    finishedAt: v.finishedAt?.toISOString() ?? null,
    durationMs: v.durationMs,
  };
}

/**
 * Verifications of the audit chain as recorded work: an incremental walk starts from the newest
 * checkpoint an earlier walk proved; a long walk runs in the worker (JobName.VerifyAudit), a short
 * one inline; each records its range, result and duration.
 */
@Injectable()
export class AuditVerificationService {
  private readonly logger = new Logger(AuditVerificationService.name);

  constructor(
    private readonly chain: AuditRepository,
    private readonly verifications: AuditVerificationRepository,
    private readonly checkpoints: AuditCheckpointStore,
    private readonly keys: VerificationKeys,
    private readonly config: AirlockConfig,
  ) {}

  /**
   * Records a verification and walks it at once when the range is short (`inline`), or queues it
   * for the worker. Incremental unless `start` is the genesis.
   */
  async start(
    actor: Actor,
    requested: VerificationStart,
  ): Promise<{ verification: AuditVerificationView; inline: boolean }> {
    // Checkpoints first, then the head: a checkpoint past the head then means the chain was cut.
    const checkpoints = await this.checkpoints.all();
    const head = await this.chain.head();
    const pending = await this.chain.pendingCount();
    const anchor = requested === VerificationStart.Checkpoint ? await this.anchor(checkpoints) : undefined;
    const fromSeq = anchor?.seq ?? '0';
    const total = BigInt(head.seq) - BigInt(fromSeq);
    const inline = total <= BigInt(this.config.AUDIT_VERIFY_INLINE_MAX_EVENTS);
    const row = await this.verifications.insert(
      {
        requestedBy: actor,
        requestedStart: requested,
        start: anchor ? VerificationStart.Checkpoint : VerificationStart.Genesis,
        fromSeq,
        anchor: anchor ?? null,
        toSeq: head.seq,
        pendingAtStart: pending,
      },
      !inline,
    );
    if (!inline) return { verification: verificationView(row), inline };
    try {
      return { verification: verificationView(await this.walk(row, checkpoints)), inline };
    } catch (e) {
      await this.verifications.finish(row.id, {
        status: AuditVerificationStatus.Errored,
        report: null,
        provenCheckpoint: null,
        error: String(e),
      });
      throw e;
    }
  }

  /** The worker's side: walks a queued verification (again, when its last worker died). */
  async run(id: string): Promise<void> {
    const row = await this.verifications.claim(id);
    if (!row) return; // finished, cancelled, or never recorded: nothing to do
    await this.walk(row, await this.checkpoints.all());
  }

  /** The worker gave up on the job: the verification says so instead of running forever. */
  async abandon(id: string, reason: string): Promise<void> {
    await this.verifications.finish(id, {
      status: AuditVerificationStatus.Errored,
      report: null,
      provenCheckpoint: null,
      error: reason,
    });
  }

  async get(id: string): Promise<AuditVerificationView> {
    const row = await this.verifications.get(id, true);
    if (!row) throw notFound('verification', id);
    return verificationView(row);
  }

  async list(limit: number): Promise<AuditVerificationView[]> {
    return (await this.verifications.list(limit)).map(verificationView);
  }

  /** Stops a verification (a finished one is returned as it is). */
  async cancel(id: string): Promise<AuditVerificationView> {
    const row = await this.verifications.requestCancel(id);
    if (!row) throw notFound('verification', id);
    return verificationView(row);
  }

  /**
   * A full walk from the genesis with its report, waited for: GET /v1/audit/verify's
   * compatibility. The walk runs in the worker unless it is short; `signal` (the client going
   * away) cancels it.
   */
  async verifyAndWait(actor: Actor, signal: AbortSignal): Promise<AuditVerificationView> {
    const { verification } = await this.start(actor, VerificationStart.Genesis);
    let v = verification;
    while (!FINISHED_VERIFICATION.includes(v.status)) {
      if (signal.aborted) return this.cancel(v.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      v = await this.get(v.id);
    }
    return v;
  }

  /**
   * The checkpoint an incremental walk starts from: the newest one a sound walk proved, provided
   * the checkpoint store (outside the database) still holds it as it was.
   */
  private async anchor(checkpoints: readonly AuditCheckpoint[]): Promise<AuditCheckpoint | undefined> {
    const proven = await this.verifications.newestProven();
    if (!proven) return undefined;
    return checkpoints.find(
      (c) => c.seq === proven.seq && c.hash === proven.hash && c.signature === proven.signature,
    );
  }

  private async walk(
    row: AuditVerificationEntity,
    allCheckpoints: readonly AuditCheckpoint[],
  ): Promise<AuditVerificationEntity> {
    const anchor = row.anchor ?? undefined;
    // Checkpoints signed after the walk was asked for lie past its range; those past the present
    // head are kept, they mean the chain was cut.
    const presentHead = BigInt((await this.chain.head()).seq);
    const checkpoints = allCheckpoints.filter(
      (c) => BigInt(c.seq) <= BigInt(row.toSeq) || BigInt(c.seq) > presentHead,
    );
    // An incremental walk starts with the anchor's own link (it must still carry the anchor's hash).
    const after = anchor ? String(BigInt(anchor.seq) - 1n) : '0';
    let lastProgress = Date.now();
    try {
      const report = await verifyAuditChain(
        this.chain.pages(after, row.toSeq, WALK_PAGE),
        checkpoints,
        this.keys,
        {
          anchor,
          onPage: async (checked) => {
            if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
            lastProgress = Date.now();
            const go = await this.verifications.progress(
              row.id,
              checked,
              this.config.AUDIT_VERIFY_ABANDON_SECONDS,
            );
            if (go !== 'go') throw new WalkStopped(go);
          },
        },
      );
      const proven = newestProvenCheckpoint(report, checkpoints, this.keys, anchor);
      const done = await this.verifications.finish(row.id, {
        status: AuditVerificationStatus.Completed,
        report,
        provenCheckpoint: proven ?? null,
        error: null,
      });
      this.logger.log({
        msg: 'audit chain verified',
        verification: row.id,
        ok: report.ok,
        checked: report.checked,
        ms: done.durationMs,
      });
      return done;
    } catch (e) {
      if (!(e instanceof WalkStopped)) throw e;
      return this.verifications.finish(row.id, {
        status: AuditVerificationStatus.Cancelled,
        report: null,
        provenCheckpoint: null,
        error: e.message,
      });
    }
  }
}
