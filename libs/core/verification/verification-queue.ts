import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { JobName } from '../../jobs';
import { type VerificationTrigger } from './verification.entity';

/**
 * Queues a continuous-verification run inside the caller's transaction (an advisory import, a
 * policy activation): the run row and its job's outbox row commit with the change that causes them,
 * so a committed import is always re-judged and a rolled-back one never is. The work itself happens
 * in a worker (verification.run), never on the API request path.
 */
@Injectable()
export class VerificationQueue {
  async queue(
    m: EntityManager,
    run: { trigger: VerificationTrigger; importId?: string; environmentId?: string; policyVersion?: number },
  ): Promise<string> {
    const id = randomUUID();
    await m.query(
      `INSERT INTO verification_run (id, trigger, import_id, environment_id, policy_version, status)
       VALUES ($1, $2, $3, $4, $5, 'queued')`,
      [id, run.trigger, run.importId ?? null, run.environmentId ?? null, run.policyVersion ?? null],
    );
    await m.query(`INSERT INTO outbox (job_name, job_id, payload) VALUES ($1, $2, $3)`, [
      JobName.Verify,
      `verification-run-${id}`,
      { runId: id },
    ]);
    return id;
  }
}
