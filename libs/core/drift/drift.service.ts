import { Injectable, Logger } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import {
  classifyFailure,
  type DriftFinding,
  type DriftKind,
  driftSummary,
  notFound,
  type PromotedArtifact,
  repositoryDrift,
  type RepositoryObservation,
  writtenByAirlock,
} from '../../domain';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { RegistryError, type RegistryClient } from '../../oci';
import { type AuditRecord } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { EnvironmentService } from '../environment/environment.service';
import { SYSTEM_ACTOR } from '../identity/actor';
import { type Caller } from '../identity/caller';
import { SourceRegistries } from '../registry/source-registries';
import { DriftCheckView, DriftView } from './drift.dto';
import { type DriftCheckEntity, type DriftCounts } from './drift.entity';
import { MAX_PROMOTED_READ, DriftRepository } from './drift.repository';

/** Findings named in a `drift.detected` audit event (the rest are counted and listed by the API). */
const AUDITED_FINDINGS = 50;

/** Where a bound stopped a check; what was read before it still counts. */
class Budget {
  private items: number;
  readonly deadline: number;
  stopped: string | null = null;

  constructor(maxItems: number, deadlineMs: number) {
    this.items = maxItems;
    this.deadline = Date.now() + deadlineMs;
  }

  get remaining(): number {
    return this.items;
  }

  /** Takes one item (a tag or digest looked at); false, and why, once a bound is reached. */
  take(): boolean {
    if (this.stopped) return false;
    if (Date.now() > this.deadline) this.stopped = 'the check ran out of time (DRIFT_DEADLINE_SECONDS)';
    else if (this.items <= 0) this.stopped = 'the check looked at as many items as it may (DRIFT_MAX_ITEMS)';
    if (this.stopped) return false;
    this.items -= 1;
    return true;
  }

  use(n: number): void {
    this.items -= n;
  }

  stop(why: string): void {
    this.stopped ??= why;
  }
}

/**
 * Drift: whether an environment's target registry still holds what Airlock promoted into it. A
 * check lists the tags of every repository Airlock promoted into (pages bounded), HEADs the tags it
 * wrote and the digests it promoted, and records what differs (libs/domain/drift.ts). It reads with
 * the environment's credential profile asking for pull only, and never writes to the registry.
 */
@Injectable()
export class DriftService {
  private readonly logger = new Logger(DriftService.name);

  constructor(
    private readonly repo: DriftRepository,
    private readonly environments: EnvironmentService,
    private readonly registries: SourceRegistries,
    private readonly config: AirlockConfig,
    private readonly clock: Clock,
    private readonly wakeups: WakeBus,
  ) {}

  /** POST /v1/environments/:name/drift-checks: queues a check (or returns the one queued). */
  async request(environment: string, caller: Caller): Promise<{ created: boolean; view: DriftCheckView }> {
    const env = await this.environments.byNameCached(environment);
    const { check, created } = await this.repo.queue(
      env.id,
      'request',
      caller.actor,
      this.staleAfterSeconds(),
      (c) => ({
        actor: caller.actor,
        action: 'drift.check_requested',
        subjectType: 'environment',
        subjectId: env.name,
        details: { check: c.id },
      }),
    );
    if (created) this.wakeups.wake(OUTBOX_TOPIC);
    return { created, view: DriftCheckView.of(check, env.name) };
  }

  /** A queued check waits behind promotions in the promote queue; past this, its job was lost. */
  private staleAfterSeconds(): number {
    return 3600 + 2 * this.config.DRIFT_DEADLINE_SECONDS;
  }

  /** The periodic job: queues a check for every environment with something promoted and none lately. */
  async scheduleAll(): Promise<number> {
    const interval = this.config.DRIFT_CHECK_INTERVAL_MS;
    if (interval <= 0) return 0;
    let queued = 0;
    for (const env of await this.repo.due(interval / 2)) {
      const { created } = await this.repo.queue(
        env.id,
        'schedule',
        SYSTEM_ACTOR,
        this.staleAfterSeconds(),
        (c) => ({
          actor: SYSTEM_ACTOR,
          action: 'drift.check_scheduled',
          subjectType: 'environment',
          subjectId: env.name,
          details: { check: c.id },
        }),
      );
      if (created) queued += 1;
    }
    if (queued) this.wakeups.wake(OUTBOX_TOPIC);
    return queued;
  }

  async get(environment: string, id: string): Promise<DriftCheckView> {
    const env = await this.environments.byNameCached(environment);
    const check = /^[0-9a-f-]{36}$/.test(id) ? await this.repo.findById(id) : null;
    if (!check || check.environmentId !== env.id) throw notFound('drift check', id);
    const finished = !['queued', 'running'].includes(check.status);
    return DriftCheckView.of(check, env.name, finished ? await this.repo.findings(check.id) : undefined);
  }

  /** GET /v1/environments/:name/drift: the latest finished check with its findings. */
  async view(environment: string): Promise<DriftView> {
    const env = await this.environments.byNameCached(environment);
    const { finished, pending } = await this.repo.latest(env.id);
    return {
      environment: env.name,
      latest: finished ? DriftCheckView.of(finished, env.name, await this.repo.findings(finished.id)) : null,
      pending: pending ? DriftCheckView.of(pending, env.name) : null,
    };
  }

  /** The drift.check job. Safe to run twice: a finished check is left alone. */
  async run(checkId: string, lastAttempt: boolean): Promise<void> {
    const check = await this.repo.start(checkId, new Date(this.clock.now()));
    if (!check) return;
    const env = await this.environments.byIdCached(check.environmentId);
    const promoted = await this.repo.promoted(env.id, env.target.registry);
    const budget = new Budget(this.config.DRIFT_MAX_ITEMS, this.config.DRIFT_DEADLINE_SECONDS * 1000);
    if (promoted.length >= MAX_PROMOTED_READ)
      budget.stop(`only the latest ${MAX_PROMOTED_READ} promotions were compared`);
    const counts: DriftCounts = {
      repositories: 0,
      tags: 0,
      requests: 0,
      findings: 0,
      byKind: {},
      notStored: 0,
    };
    const findings: DriftFinding[] = [];
    const client = this.registries.targetReader(env.target);
    try {
      for (const repository of [...new Set(promoted.map((p) => p.repository))].sort()) {
        if (budget.stopped) break;
        const mine = promoted.filter((p) => p.repository === repository);
        const seen = await this.observe(client, repository, mine, budget, counts);
        counts.repositories += 1;
        findings.push(...repositoryDrift(mine, seen));
      }
    } catch (e) {
      const failure = classifyFailure(e);
      if (!failure.permanent && !lastAttempt) throw e; // retried by the job
      this.logger.warn({ msg: 'drift check failed', checkId, error: failure.message });
      await this.finish(check, env.name, { status: 'failed', reason: failure.message, findings, counts });
      return;
    } finally {
      client.close();
    }
    await this.finish(check, env.name, {
      status: budget.stopped ? 'truncated' : 'completed',
      reason: budget.stopped,
      findings,
      counts,
    });
  }

  /** The job gave up on a check (stalled, or failed unexpectedly on its last attempt). */
  async abandon(checkId: string, reason: string): Promise<void> {
    const check = await this.repo.findById(checkId);
    if (!check) return;
    const env = await this.environments.byIdCached(check.environmentId);
    const counts: DriftCounts = {
      repositories: 0,
      tags: 0,
      requests: 0,
      findings: 0,
      byKind: {},
      notStored: 0,
    };
    await this.finish(check, env.name, { status: 'failed', reason, findings: [], counts });
  }

  /** Lists a repository's tags and HEADs what Airlock wrote there, within the budget. */
  private async observe(
    client: RegistryClient,
    repository: string,
    promoted: readonly PromotedArtifact[],
    budget: Budget,
    counts: DriftCounts,
  ): Promise<RepositoryObservation> {
    const listing = await client.listTags(repository, {
      pageSize: this.config.DRIFT_PAGE_SIZE,
      maxPages: this.config.DRIFT_MAX_PAGES,
      maxTags: Math.max(budget.remaining, 0),
    });
    counts.requests += listing.pages;
    counts.tags += listing.tags.length;
    budget.use(listing.tags.length);
    if (listing.truncated)
      budget.stop(`the tag listing of ${repository} stopped at ${listing.tags.length} tags`);
    const tagDigests = new Map<string, string | null>();
    const digestPresent = new Map<string, boolean>();
    const digests = new Set(promoted.map((p) => p.digest));
    if (!listing.exists) {
      // No repository at all: every promoted digest is gone, no request needed.
      for (const d of digests) digestPresent.set(d, false);
      return { repository, tags: [], tagDigests, digestPresent, truncated: false };
    }
    const heads = async (reference: string): Promise<string | null> => {
      counts.requests += 1;
      const head = await client.headManifest(repository, reference);
      if (head === null) return null;
      if (head.digest !== undefined) return head.digest;
      counts.requests += 1;
      return (await client.getManifest(repository, reference)).digest;
    };
    for (const tag of listing.tags) {
      // Airlock's own digest tags (.sig, .att, the referrers index) name themselves: no need to look.
      if (writtenByAirlock(tag, repository, new Map(), digests)) continue;
      if (!budget.take()) break;
      tagDigests.set(tag, await heads(tag).catch(goneAsNull));
    }
    for (const digest of digests) {
      if (!budget.take()) break;
      digestPresent.set(digest, (await heads(digest).catch(goneAsNull)) !== null);
    }
    return { repository, tags: listing.tags, tagDigests, digestPresent, truncated: listing.truncated };
  }

  private async finish(
    check: DriftCheckEntity,
    environment: string,
    o: {
      status: 'completed' | 'truncated' | 'failed';
      reason: string | null;
      findings: DriftFinding[];
      counts: DriftCounts;
    },
  ): Promise<void> {
    const byKind: Partial<Record<DriftKind, number>> = {};
    for (const f of o.findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    const stored = o.findings.slice(0, this.config.DRIFT_MAX_FINDINGS);
    const counts: DriftCounts = {
      ...o.counts,
      findings: o.findings.length,
      byKind,
      notStored: o.findings.length - stored.length,
    };
    const summary =
      o.status === 'failed'
        ? `the check failed: ${o.reason ?? 'unknown reason'}`
        : `${driftSummary(o.findings)}${o.status === 'truncated' ? ` (incomplete: ${o.reason})` : ''}`;
    const audit: AuditRecord[] = [
      {
        actor: SYSTEM_ACTOR,
        action: 'drift.checked',
        subjectType: 'environment',
        subjectId: environment,
        details: {
          check: check.id,
          trigger: check.trigger,
          status: o.status,
          summary,
          counts,
          reason: o.reason,
        },
      },
    ];
    if (o.findings.length > 0) {
      // The event a notifier (webhooks) subscribes to: what differs, named.
      audit.push({
        actor: SYSTEM_ACTOR,
        action: 'drift.detected',
        subjectType: 'environment',
        subjectId: environment,
        details: {
          check: check.id,
          summary,
          byKind,
          findings: o.findings.slice(0, AUDITED_FINDINGS).map((f) => ({
            kind: f.kind,
            repository: f.repository,
            tag: f.tag,
            expectedDigest: f.expectedDigest,
            actualDigest: f.actualDigest,
            promotionId: f.promotionId,
          })),
        },
      });
    }
    await this.repo.finish(
      check.id,
      {
        status: o.status,
        summary,
        counts,
        reason: o.reason,
        findings: stored,
        at: new Date(this.clock.now()),
      },
      audit,
    );
  }
}

/** A 404 on a HEAD is an answer (gone); anything else is the registry failing. */
function goneAsNull(e: unknown): null {
  if (e instanceof RegistryError && e.kind === 'not_found') return null;
  throw e;
}
