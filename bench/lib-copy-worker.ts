// One Airlock copy from a process that stands for the worker, so bench/promoter.ts can measure the
// memory of the worker and of the process that copies:
//   node dist/bench/lib-copy-worker.js '<json CopyJob>'
// It loads the worker's whole module graph (apps/worker/worker.module: Nest, TypeORM, BullMQ, every
// check; not started, so no database or queue connections) and is wired as the worker's promoter
// is: RegistryTokens (client-credentials grants at the issuer, one per scope a registry challenge
// names) → SourceRegistries → PromoterCopier, which copies in its copy process
// (PROMOTER_COPY_PROCESS=child, the default) or in this process (`inline`). Prints one JSON line
// (CopyReport) on stdout.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../libs/config';
import { type IdentityService } from '../libs/core/identity/identity.service';
import { OidcDiscovery } from '../libs/core/identity/oidc-discovery';
import { HostGuard } from '../libs/core/outbound/host-guard';
import { HostResolver } from '../libs/core/outbound/host-resolver';
import { PromoterCopier } from '../libs/core/promoter/promoter-copier';
import { RegistryTokens } from '../libs/core/registry/registry-tokens';
import { SourceRegistries } from '../libs/core/registry/source-registries';
import { SecretStore } from '../libs/core/secrets/secret-store';
import { type CredentialProfile, type SourceRule, type TargetMapping } from '../libs/domain';
import { type CopyStats, type ProcessUsage } from '../libs/oci';
import { RegistryClientFactory } from '../libs/oci/oci.module';

export type CopyMode = 'child' | 'inline';

export interface CopyJob {
  profile: CredentialProfile;
  /** AIRLOCK_SECRETS_DIR: the folder holding the profile's named secret. */
  secretsDir: string;
  source: { host: string; repository: string };
  target: { host: string; repository: string };
  digest: string;
  /** PROMOTER_COPY_PROCESS. */
  mode: CopyMode;
  /**
   * Repositories of the target registry to mount missing blobs from, as the promoter passes the
   * target repository it promoted to last (CopyOptions.mountFrom).
   */
  mountFrom?: string[];
  /**
   * A small image copied first, untimed, into another target repository: a running worker has
   * promoted before, so its code is compiled, the issuer discovered, and (child mode) its copy
   * process started and idle.
   */
  warmup: { sourceRepository: string; targetRepository: string; digest: string };
}

export interface CopyReport {
  mode: CopyMode;
  /** From the promoter's copy call until its result (token grants included). */
  copyMs: number;
  /** CPU time (user + system) of this process, the worker, during the copy. */
  workerCpuMs: number;
  /** Time spent waiting for token grants (summed over grants, which may overlap). */
  tokenMs: number;
  tokenGrants: number;
  worker: {
    /** RSS once everything was loaded and the warm-up copy done, before the copy (bytes). */
    baselineRss: number;
    /** Highest RSS sampled every 20 ms during the copy (bytes). */
    sampledRss: number;
    /** VmHWM at the end: the process's peak since it started, module loading included (bytes). */
    peakRss: number;
    /** Peaks of process.memoryUsage() sampled during the copy (bytes). */
    arrayBuffers: number;
    heapUsed: number;
  };
  /** The copy process's own account (child mode). */
  child?: ProcessUsage & { forked: boolean };
  /** The copy process's start (fork to listening), measured at the warm-up copy (ms). */
  childStartMs?: number;
  stats: CopyStats;
}

/** VmHWM of this process (getrusage's maxRSS would be the same here, but not in a forked child). */
function peakRss(): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as CopyJob;
  const load = createRequire(__filename);
  load('reflect-metadata');
  load('../apps/worker/worker.module');
  // The worker's own configuration for loopback registries and a named secret in a folder.
  const config = loadConfig({
    AIRLOCK_MODE: 'test',
    DATABASE_URL: 'postgres://unused/airlock',
    REDIS_URL: 'redis://unused',
    AIRLOCK_SIGNING_KEY_FILE: join(job.secretsDir, '..', 'no-signing-key.pem'),
    AUDIT_CHECKPOINT_FILE: join(job.secretsDir, '..', 'checkpoints.jsonl'),
    AIRLOCK_SECRETS_DIR: job.secretsDir,
    AIRLOCK_ALLOWED_HOSTS: '127.0.0.1:*',
    PROMOTER_COPY_PROCESS: job.mode,
  });
  // The issuer is trusted (the benchmark has no database to hold trusted issuers).
  const identity = { trustedIssuer: async () => ({}) } as unknown as IdentityService;
  const tokens = new RegistryTokens(
    config,
    new HostGuard(config, new HostResolver()),
    identity,
    new SecretStore(config),
    new OidcDiscovery(),
  );
  const registries = new SourceRegistries(new RegistryClientFactory(), tokens, config);
  let tokenMs = 0;
  let tokenGrants = 0;
  const timedTokens = {
    supplierFor: (profile: CredentialProfile) => {
      const supply = tokens.supplierFor(profile);
      return async (scope: string, challenge: { realm: string; service?: string }) => {
        const t = performance.now();
        try {
          return await supply(scope, challenge);
        } finally {
          tokenMs += performance.now() - t;
          tokenGrants += 1;
        }
      };
    },
  };
  (registries as unknown as { tokens: typeof timedTokens }).tokens = timedTokens;
  const copier = new PromoterCopier(config, registries);

  const sources: SourceRule[] = [
    { registry: job.source.host, repositories: ['**'], insecure: true, credentials: job.profile },
  ];
  const target: TargetMapping = {
    registry: job.target.host,
    repository: job.target.repository,
    insecure: true,
    credentials: job.profile,
  };
  const copy = (sourceRepository: string, targetRepository: string, digest: string, mountFrom?: string[]) =>
    copier.copy(
      { sources, registry: job.source.host, repository: sourceRepository },
      { target, repository: targetRepository },
      digest,
      { mountFrom },
    );

  // A running worker has discovered the issuer long ago (cached for an hour), has promoted before,
  // and (child mode) keeps its copy process for the next copy: all of it before timing.
  const warm = await copy(job.warmup.sourceRepository, job.warmup.targetRepository, job.warmup.digest);
  tokenMs = 0;
  tokenGrants = 0;
  const baselineRss = process.memoryUsage().rss;

  const sampled = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    sampled.rss = Math.max(sampled.rss, m.rss);
    sampled.heapUsed = Math.max(sampled.heapUsed, m.heapUsed);
    sampled.arrayBuffers = Math.max(sampled.arrayBuffers, m.arrayBuffers);
  };
  const sampler = setInterval(sample, 20);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await copy(job.source.repository, job.target.repository, job.digest, job.mountFrom);
  const copyMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  sample();
  copier.onApplicationShutdown();
  const report: CopyReport = {
    mode: job.mode,
    copyMs,
    workerCpuMs: (cpu.user + cpu.system) / 1000,
    tokenMs,
    tokenGrants,
    worker: {
      baselineRss,
      sampledRss: sampled.rss,
      peakRss: peakRss(),
      arrayBuffers: sampled.arrayBuffers,
      heapUsed: sampled.heapUsed,
    },
    child: result.usage ? { ...result.usage, forked: result.forked ?? false } : undefined,
    childStartMs: warm.startMs,
    stats: result.stats,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
