// One Airlock copy in a process of its own, so bench/promoter.ts can measure its peak memory:
//   node dist/bench/lib-copy-worker.js '<json CopyJob>'
// Wired as the worker's promoter is: RegistryTokens (client-credentials grants at the issuer, one
// per scope a registry challenge names) → SourceRegistries (a fresh RegistryClient for the source
// rule and for the target mapping) → copyManifest with the promoter's default options. Prints one
// JSON line (CopyReport) on stdout.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadConfig } from '../libs/config';
import { type IdentityService } from '../libs/core/identity/identity.service';
import { OidcDiscovery } from '../libs/core/identity/oidc-discovery';
import { HostGuard } from '../libs/core/outbound/host-guard';
import { HostResolver } from '../libs/core/outbound/host-resolver';
import { SecretStore } from '../libs/core/secrets/secret-store';
import { type CredentialProfile, type SourceRule, type TargetMapping } from '../libs/domain';
import { RegistryTokens } from '../libs/core/registry/registry-tokens';
import { SourceRegistries } from '../libs/core/registry/source-registries';
import { copyManifest, type CopyStats } from '../libs/oci';
import { RegistryClientFactory } from '../libs/oci/oci.module';

export interface CopyJob {
  profile: CredentialProfile;
  /** AIRLOCK_SECRETS_DIR: the folder holding the profile's named secret. */
  secretsDir: string;
  source: { host: string; repository: string };
  target: { host: string; repository: string };
  digest: string;
  /**
   * Also load the worker's whole module graph first (apps/worker/worker.module: Nest, TypeORM,
   * BullMQ, pg, every check), without starting it, so the RSS is what the worker process would
   * show while copying.
   */
  workerGraph?: boolean;
  /**
   * Repositories of the target registry to mount missing blobs from, as the promoter passes the
   * target repository it promoted to last (CopyOptions.mountFrom).
   */
  mountFrom?: string[];
  /**
   * A small image copied first, untimed, into another target repository: a running worker has
   * promoted before, so its code is compiled and its connections' code paths are warm.
   */
  warmup?: { sourceRepository: string; targetRepository: string; digest: string };
}

export interface CopyReport {
  /** From making the clients until copyManifest resolved (token grants included). */
  copyMs: number;
  /** CPU time (user + system) of this process during the copy. */
  copyCpuMs: number;
  /** Time spent waiting for token grants (summed over grants, which may overlap). */
  tokenMs: number;
  tokenGrants: number;
  /** RSS once everything was loaded, before the copy (bytes). */
  baselineRss: number;
  /** Peak RSS of the process (bytes), from getrusage. */
  maxRss: number;
  /** Peaks of process.memoryUsage() sampled every 20 ms during the copy (bytes). */
  sampled: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  stats: CopyStats;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as CopyJob;
  if (job.workerGraph === true) {
    const load = createRequire(__filename);
    load('reflect-metadata');
    load('../apps/worker/worker.module');
  }
  // The worker's own configuration for loopback registries and a named secret in a folder.
  const config = loadConfig({
    AIRLOCK_MODE: 'test',
    DATABASE_URL: 'postgres://unused/airlock',
    REDIS_URL: 'redis://unused',
    AIRLOCK_SIGNING_KEY_FILE: join(job.secretsDir, '..', 'no-signing-key.pem'),
    AUDIT_CHECKPOINT_FILE: join(job.secretsDir, '..', 'checkpoints.jsonl'),
    AIRLOCK_SECRETS_DIR: job.secretsDir,
    AIRLOCK_ALLOWED_HOSTS: '127.0.0.1:*',
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

  const sources: SourceRule[] = [
    { registry: job.source.host, repositories: ['**'], insecure: true, credentials: job.profile },
  ];
  const targetMapping = (repository: string): TargetMapping => ({
    registry: job.target.host,
    repository,
    insecure: true,
    credentials: job.profile,
  });
  const copy = async (
    sourceRepository: string,
    targetRepository: string,
    digest: string,
    mountFrom?: string[],
  ) => {
    const sourceClient = registries.clientFor(sources, job.source.host);
    const targetClient = registries.targetClient(targetMapping(targetRepository));
    try {
      return await copyManifest(
        { client: sourceClient, repository: sourceRepository },
        { client: targetClient, repository: targetRepository },
        digest,
        { mountFrom },
      );
    } finally {
      sourceClient.close();
      targetClient.close();
    }
  };

  // A running worker has discovered the issuer long ago (cached for an hour) and has promoted
  // before: do both before timing.
  if (job.warmup !== undefined) {
    await copy(job.warmup.sourceRepository, job.warmup.targetRepository, job.warmup.digest);
  } else {
    await tokens.supplierFor(job.profile)(`repository:${job.source.repository}:pull`, {
      realm: `${job.profile.issuer}/token`,
      service: job.profile.services[0],
    });
  }
  tokenMs = 0;
  tokenGrants = 0;
  const baselineRss = process.memoryUsage().rss;

  const sampled = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    sampled.rss = Math.max(sampled.rss, m.rss);
    sampled.heapUsed = Math.max(sampled.heapUsed, m.heapUsed);
    sampled.external = Math.max(sampled.external, m.external);
    sampled.arrayBuffers = Math.max(sampled.arrayBuffers, m.arrayBuffers);
  };
  const sampler = setInterval(sample, 20);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { stats } = await copy(job.source.repository, job.target.repository, job.digest, job.mountFrom);
  const copyMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  sample();
  const report: CopyReport = {
    copyMs,
    copyCpuMs: (cpu.user + cpu.system) / 1000,
    tokenMs,
    tokenGrants,
    baselineRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    sampled,
    stats,
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
