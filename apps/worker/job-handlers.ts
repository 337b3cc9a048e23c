import { Injectable } from '@nestjs/common';
import {
  ApprovalService,
  AuditVerificationService,
  CheckStageService,
  DriftService,
  PromoterService,
  VerificationService,
  WebhookDeliveryService,
} from '../../libs/core';
import { type JobItem, JobName, type JobOf, JOB_NAMES } from '../../libs/jobs';

/** A job that must run again later, `ms` from now: not a failure, and no attempt is used up. */
export class NotYet extends Error {
  constructor(readonly ms: number) {
    super(`not yet: again in ${ms} ms`);
  }
}

/** What a handler learns about the attempt it runs in. */
export interface AttemptInfo {
  lastAttempt: boolean;
}

type Handlers = { [N in JobName]: (job: JobOf<N>, attempt: AttemptInfo) => Promise<void> };

/**
 * One handler per job name, checked at boot: a job with no handler, or a handler for no job,
 * stops the worker before it takes any job.
 */
@Injectable()
export class JobHandlers {
  private readonly handlers: Handlers;

  constructor(
    private readonly checkStage: CheckStageService,
    private readonly approvals: ApprovalService,
    private readonly promoter: PromoterService,
    private readonly webhooks: WebhookDeliveryService,
    private readonly drift: DriftService,
    private readonly verification: VerificationService,
    private readonly verifications: AuditVerificationService,
  ) {
    this.handlers = {
      [JobName.RunChecks]: (job, attempt) => this.handleRunChecks(job, attempt),
      [JobName.Promote]: (job, attempt) => this.handlePromote(job, attempt),
      [JobName.Release]: (job) => this.handleRelease(job),
      [JobName.SweepPending]: () => this.handleSweepPending(),
      [JobName.DeliverWebhook]: (job) => this.handleDeliverWebhook(job),
      [JobName.DriftCheck]: (job, attempt) => this.drift.run(job.data.checkId, attempt.lastAttempt),
      [JobName.ScheduleDriftChecks]: async () => {
        await this.drift.scheduleAll();
      },
      [JobName.Verify]: (job, attempt) => this.verification.run(job.data.runId, attempt.lastAttempt),
      [JobName.VerifyAudit]: (job) => this.handleVerifyAudit(job),
    };
    const missing = JOB_NAMES.filter((n) => typeof this.handlers[n] !== 'function');
    const extra = Object.keys(this.handlers).filter((n) => !(JOB_NAMES as readonly string[]).includes(n));
    if (missing.length || extra.length) {
      throw new Error(
        `job handlers do not match job names: missing ${missing.join(',')} extra ${extra.join(',')}`,
      );
    }
  }

  /**
   * A job BullMQ will not run again (its last attempt threw, it stalled past the limit, or it met
   * a permanent failure): the promotion must not stay in a working status nobody works on.
   */
  async abandoned(job: JobItem, reason: string, how: { permanent?: boolean } = {}): Promise<void> {
    switch (job.name) {
      case JobName.RunChecks:
        return this.checkStage.abandon(job.data.promotionId, reason, how.permanent);
      case JobName.Promote:
        return this.promoter.abandon(job.data.promotionId, reason, how.permanent);
      case JobName.Release: // the reconciler enqueues it again
      case JobName.SweepPending:
        return; // the next sweep runs anyway
      case JobName.DeliverWebhook:
        return this.webhooks.abandon(job.data.deliveryId);
      case JobName.ScheduleDriftChecks:
        return; // the next round runs anyway
      case JobName.DriftCheck:
        return this.drift.abandon(job.data.checkId, reason);
      case JobName.Verify:
        return this.verification.abandon(job.data.runId, reason);
      case JobName.VerifyAudit:
        return this.verifications.abandon(job.data.verificationId, reason);
    }
  }

  dispatch(job: JobItem, attempt: AttemptInfo): Promise<void> {
    // Names and handlers correspond one to one (checked above); TypeScript cannot follow that
    // correlation through an indexed access, hence the widening.
    const handler = this.handlers[job.name] as (j: JobItem, a: AttemptInfo) => Promise<void>;
    return handler(job, attempt);
  }

  private handlePromote(job: JobOf<JobName.Promote>, attempt: AttemptInfo): Promise<void> {
    return this.promoter.run(job.data.promotionId, attempt.lastAttempt);
  }

  /** Came early (a requeued job, or the rules' clock): the processor delays it again. */
  private async handleRelease(job: JobOf<JobName.Release>): Promise<void> {
    const early = await this.approvals.release(job.data.promotionId);
    if (early) throw new NotYet(early.retryInMs);
  }

  private async handleSweepPending(): Promise<void> {
    await this.approvals.expireOverdue();
  }

  private handleDeliverWebhook(job: JobOf<JobName.DeliverWebhook>): Promise<void> {
    return this.webhooks.deliver(job.data.deliveryId);
  }

  /** Walks the chain for a recorded verification; a rerun after a crash starts the walk over. */
  private handleVerifyAudit(job: JobOf<JobName.VerifyAudit>): Promise<void> {
    return this.verifications.run(job.data.verificationId);
  }

  private handleRunChecks(job: JobOf<JobName.RunChecks>, attempt: AttemptInfo): Promise<void> {
    return this.checkStage.run(job.data.promotionId, attempt.lastAttempt);
  }
}
