import { Injectable, Logger } from '@nestjs/common';
import { AirlockConfig } from '../../config';
import { classifyFailure, type PolicyDocument, type VulnerabilitiesScanSection } from '../../domain';
import { OUTBOX_TOPIC, WakeBus } from '../../jobs';
import { evaluateLicense, type SbomPackage } from '../../sbom';
import { advisoryKeys, matchVulnerabilities } from '../../vuln';
import { AdvisoryRepository } from '../advisory/advisory.repository';
import { type AuditRecord } from '../audit/audit.repository';
import { Clock } from '../common/clock';
import { EnvironmentService } from '../environment/environment.service';
import { SYSTEM_ACTOR } from '../identity/actor';
import { VerificationFindingView, VerificationRunView, VerificationView } from './verification.dto';
import { type VerificationRunEntity } from './verification.entity';
import {
  type CurrentPromotion,
  findingKey,
  type FoundFinding,
  VerificationRepository,
} from './verification.repository';

/**
 * When an environment's policy has no vulnerabilities section, findings are still recorded (what
 * production carries is worth knowing) but none blocks: nothing is above `critical`.
 */
const REPORT_ONLY: VulnerabilitiesScanSection = { maxSeverity: 'critical', unknownSeverity: 'warn' };
/** Advisories named per environment in a `verification.affected` event. */
const AUDITED_ADVISORIES = 50;
const LISTED_FINDINGS = 1000;
/** A run still queued this long after it was queued is given its job again. */
const STALE_AFTER_SECONDS = 600;

/** Per environment and advisory: how many digests it newly affects, how many have a fix, block. */
interface AdvisoryTally {
  digests: number;
  fixable: number;
  blocking: number;
  severity: string | null;
}

/** Advisories named per environment in a run's counts (the rest are counted). */
const COUNTED_ADVISORIES = 50;
/** Summary lines kept in a run's summary. */
const SUMMARY_LINES = 20;

/**
 * Continuous verification: what is promoted today is judged again when the world changes, from the
 * evidence stored when it was checked (its SBOM packages), without reading any registry. After an
 * advisory import only the advisories that import added or changed are matched, and only against
 * packages they name; after a policy activation the environment's promoted digests are judged
 * under the new policy. Findings stay open until a run no longer finds them.
 */
@Injectable()
export class VerificationService {
  private readonly logger = new Logger(VerificationService.name);

  constructor(
    private readonly repo: VerificationRepository,
    private readonly advisories: AdvisoryRepository,
    private readonly environments: EnvironmentService,
    private readonly config: AirlockConfig,
    private readonly clock: Clock,
    private readonly wakeups: WakeBus,
  ) {}

  /** Maintenance: queued runs whose job may be lost get it again (see requeueStale). */
  async requeueStale(): Promise<number> {
    const requeued = await this.repo.requeueStale(STALE_AFTER_SECONDS);
    if (requeued) this.wakeups.wake(OUTBOX_TOPIC);
    return requeued;
  }

  /** The verification.run job. Safe to run twice: a finished run is left alone. */
  async run(runId: string, lastAttempt: boolean): Promise<void> {
    const run = await this.repo.start(runId, new Date(this.clock.now()));
    if (!run) return;
    try {
      await this.judge(run);
    } catch (e) {
      const failure = classifyFailure(e);
      if (!failure.permanent && !lastAttempt) throw e;
      await this.abandon(runId, failure.message);
    }
  }

  async abandon(runId: string, reason: string): Promise<void> {
    this.logger.warn({ msg: 'verification run failed', runId, error: reason });
    await this.repo.fail(runId, reason, new Date(this.clock.now()), {
      actor: SYSTEM_ACTOR,
      action: 'verification.failed',
      subjectType: 'verification_run',
      subjectId: runId,
      details: { reason },
    });
  }

  private async judge(run: VerificationRunEntity): Promise<void> {
    const now = new Date(this.clock.now());
    const incremental = run.trigger === 'advisories' && run.importId !== null;
    const current = await this.repo.current(
      run.trigger === 'policy' ? (run.environmentId ?? undefined) : undefined,
    );
    const ids = current.map((c) => c.id);
    const policies = await this.repo.activePolicies([...new Set(current.map((c) => c.environmentId))]);
    const changed = incremental ? await this.repo.changedAdvisories(run.importId as string) : [];
    // Incremental: only packages some changed advisory names, and only those advisories.
    const packages = await this.repo.packages(ids, incremental ? (run.importId as string) : undefined);
    const all: SbomPackage[] = [...packages.values()].flat();
    const candidates = await this.advisories.candidatesFor(
      advisoryKeys(all),
      undefined,
      incremental ? (run.importId as string) : undefined,
    );
    const withEvidence = await this.repo.withEvidence(ids);

    const found = new Map<string, FoundFinding>();
    for (const p of current) {
      const pkgs = packages.get(p.id);
      if (!pkgs?.length) continue;
      const policy = policies.get(p.environmentId);
      for (const f of this.findingsOf(p, pkgs, candidates, policy, now, !incremental))
        found.set(findingKey(f), f);
    }
    const findings = [...found.values()];
    const stored = findings.slice(0, this.config.VERIFICATION_MAX_FINDINGS);
    await this.repo.finish(run.id, {
      found: stored,
      scope: { promotionIds: ids, subjects: incremental ? changed : undefined },
      at: now,
      summary: (fresh) =>
        this.outcome(run, current, findings, fresh, {
          changedAdvisories: changed.length,
          promotions: current.length,
          withoutEvidence: current.filter((c) => !withEvidence.has(c.id)).length,
          packagesMatched: all.length,
          notStored: findings.length - stored.length,
        }),
    });
  }

  private findingsOf(
    p: CurrentPromotion,
    packages: SbomPackage[],
    candidates: Parameters<typeof matchVulnerabilities>[1],
    policy: PolicyDocument | undefined,
    now: Date,
    withLicenses: boolean,
  ): FoundFinding[] {
    const out: FoundFinding[] = [];
    const section = policy?.scans?.vulnerabilities ?? REPORT_ONLY;
    const report = matchVulnerabilities(packages, candidates, section, now);
    for (const f of report.findings) {
      out.push({
        environmentId: p.environmentId,
        promotionId: p.id,
        kind: 'vulnerability',
        subject: f.advisory,
        package: f.package,
        version: f.version,
        severity: f.severity,
        fixedIn: f.fixedIn,
        blocking: f.blocking,
        note: f.note ?? null,
        detail: { aliases: f.aliases, summary: f.summary, fix: f.fix, score: f.score },
      });
    }
    const licenses = policy?.scans?.licenses;
    if (withLicenses && licenses) {
      for (const pkg of packages) {
        if (!pkg.purl) continue;
        const v = evaluateLicense(pkg.license, licenses);
        if (v.outcome === 'allowed') continue;
        out.push({
          environmentId: p.environmentId,
          promotionId: p.id,
          kind: 'license',
          subject: pkg.license ?? '(none)',
          package: pkg.purl,
          version: pkg.version,
          severity: null,
          fixedIn: null,
          blocking: v.outcome !== 'unknown' || (licenses.unknown ?? 'fail') === 'fail',
          note: v.outcome,
          detail: {},
        });
      }
    }
    return out;
  }

  /** The run's summary ("3 digests in production are now affected by GHSA-…, 1 has a fixed version"), counts and audit. */
  private outcome(
    run: VerificationRunEntity,
    current: readonly CurrentPromotion[],
    findings: readonly FoundFinding[],
    fresh: ReadonlySet<string>,
    numbers: Record<string, number>,
  ): { summary: string; counts: Record<string, unknown>; audit: AuditRecord[] } {
    const envNames = new Map(current.map((c) => [c.environmentId, c.environment]));
    // Counted once per digest and advisory (a digest may carry the advisory in two packages):
    // memory grows with the findings, not with digests times advisories.
    const counted = new Map<string, { fixed: boolean; blocking: boolean }>();
    for (const f of findings) {
      if (f.kind !== 'vulnerability' || !fresh.has(findingKey(f))) continue;
      const key = `${f.environmentId}\u0000${f.subject}\u0000${f.promotionId}\u0000${f.severity ?? ''}`;
      const known = counted.get(key);
      counted.set(key, {
        fixed: (known?.fixed ?? false) || f.fixedIn !== null,
        blocking: (known?.blocking ?? false) || f.blocking,
      });
    }
    const byEnv = new Map<string, Map<string, AdvisoryTally>>();
    for (const [key, c] of counted) {
      const [envId, subject, , severity] = key.split('\u0000');
      const perEnv = byEnv.get(envId) ?? new Map<string, AdvisoryTally>();
      const t = perEnv.get(subject) ?? { digests: 0, fixable: 0, blocking: 0, severity: severity || null };
      t.digests += 1;
      if (c.fixed) t.fixable += 1;
      if (c.blocking) t.blocking += 1;
      perEnv.set(subject, t);
      byEnv.set(envId, perEnv);
    }
    counted.clear();
    const lines: string[] = [];
    const audit: AuditRecord[] = [];
    const affected: Record<string, unknown> = {};
    for (const [envId, perEnv] of byEnv) {
      const env = envNames.get(envId) as string;
      const advisories = [...perEnv.entries()]
        .sort((a, b) => b[1].digests - a[1].digests || a[0].localeCompare(b[0]))
        .slice(0, COUNTED_ADVISORIES)
        .map(([id, t]) => ({
          advisory: id,
          severity: t.severity,
          digests: t.digests,
          fixable: t.fixable,
          blocking: t.blocking,
          line: `${t.digests} digest${t.digests === 1 ? '' : 's'} in ${env} ${t.digests === 1 ? 'is' : 'are'} now affected by ${id}, ${t.fixable} ${t.fixable === 1 ? 'has' : 'have'} a fixed version`,
        }));
      affected[env] = { advisories: perEnv.size, top: advisories.map(({ line: _line, ...rest }) => rest) };
      lines.push(...advisories.map((a) => a.line));
      audit.push({
        actor: SYSTEM_ACTOR,
        action: 'verification.affected',
        subjectType: 'environment',
        subjectId: env,
        details: {
          run: run.id,
          trigger: run.trigger,
          importId: run.importId,
          policyVersion: run.policyVersion,
          newlyAffectingAdvisories: perEnv.size,
          advisories: advisories.slice(0, AUDITED_ADVISORIES),
        },
      });
    }
    const freshLicenses = findings.filter((f) => f.kind === 'license' && fresh.has(findingKey(f))).length;
    if (freshLicenses)
      lines.push(`${freshLicenses} package license${freshLicenses === 1 ? '' : 's'} no longer accepted`);
    const advisoryCount = [...byEnv.values()].reduce((n, m) => n + m.size, 0);
    const summary = lines.length
      ? lines.slice(0, SUMMARY_LINES).join('; ') +
        (advisoryCount > SUMMARY_LINES ? `; and ${advisoryCount - SUMMARY_LINES} more advisories` : '')
      : `nothing promoted is newly affected (${numbers.promotions} promoted digests judged)`;
    const counts = { ...numbers, findings: findings.length, newFindings: fresh.size, affected };
    audit.unshift({
      actor: SYSTEM_ACTOR,
      action: 'verification.completed',
      subjectType: 'verification_run',
      subjectId: run.id,
      details: {
        trigger: run.trigger,
        importId: run.importId,
        policyVersion: run.policyVersion,
        summary,
        ...numbers,
      },
    });
    return { summary, counts, audit };
  }

  /** GET /v1/environments/:name/verification: open findings of what is promoted there now. */
  async view(environment: string): Promise<VerificationView> {
    const env = await this.environments.byNameCached(environment);
    const [rows, runs] = await Promise.all([
      this.repo.openFindings(env.id, LISTED_FINDINGS),
      this.repo.recentRuns(env.id, 5),
    ]);
    const digests = new Set(rows.filter((r) => r.kind === 'vulnerability').map((r) => r.digest));
    const blocking = new Set(rows.filter((r) => r.blocking).map((r) => r.digest));
    return {
      environment: env.name,
      affectedDigests: digests.size,
      blockingDigests: blocking.size,
      findings: rows.map((r) => VerificationFindingView.of(r)),
      runs: runs.map((r) => VerificationRunView.of(r)),
    };
  }
}
