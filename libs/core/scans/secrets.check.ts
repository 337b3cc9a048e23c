import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RE2JS } from 're2js';
import { CheckStatus, exceptionApplies, Failure, type PolicyDocument } from '../../domain';
import { isImageIndex, type Descriptor, type RegistryClient, RegistryProcessPool } from '../../oci';
import {
  type CompiledSecretRule,
  DEFAULT_SECRET_SCAN_LIMITS,
  type LayerProblem,
  type LayerScanCache,
  layerScanFromWire,
  type LayerScanReader,
  layerScanVersion,
  type GitleaksRuleSet,
  readGitleaksRuleSets,
  scanLayers,
  type ScanLayer,
  type SecretScanLimits,
  type SecretScanResult,
  summariseSecretScan,
} from '../../scan';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { Clock } from '../common/clock';
import { AirlockConfig, childProcessEnvironment } from '../../config';
import { SigningKey } from '../../trust';
import { pullOf, SourceRegistries } from '../registry/source-registries';
import { SecretScanCacheRepository } from './secret-scan-cache.repository';

/** Platforms of a multi-platform image scanned; an image with more is refused, not half-scanned. */
const MAX_PLATFORMS = 16;
const MAX_MANIFEST_LAYERS = 500;
/** BuildKit puts provenance and SBOM attestations in the index as manifests of their own. */
const DOCKER_REFERENCE_TYPE = 'vnd.docker.reference.type';

/** Problems the image itself causes: reading it again gives the same answer. */
const PERMANENT: ReadonlySet<LayerProblem['kind']> = new Set([
  'limit',
  'malformed',
  'path-traversal',
  'link-escape',
  'unsupported-media-type',
  'digest-mismatch',
]);

/** A read that failed is as permanent as its cause (a digest mismatch is, a dropped connection not). */
const isPermanent = (problem: LayerProblem): boolean =>
  problem.failure?.permanent ?? PERMANENT.has(problem.kind);

/** A refusal of the image's shape: scanning part of it would prove nothing about the rest. */
const unscannable = (message: string): Failure => Failure.permanent(message);

interface PlatformImage {
  platform: string;
  layers: Descriptor[];
}

function platformName(
  d: Descriptor & { platform?: { os?: string; architecture?: string; variant?: string } },
): string {
  const p = d.platform;
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : d.digest;
}

/** Each platform's layers, in order; attestation manifests are not images and are left out. */
async function platformImages(
  c: RegistryClient,
  repository: string,
  digest: string,
): Promise<PlatformImage[]> {
  const top = await c.getManifest(repository, digest);
  const images: PlatformImage[] = [];
  if (!isImageIndex(top.json)) images.push({ platform: 'image', layers: top.json.layers });
  else {
    const children = top.json.manifests.filter(
      (m) =>
        m.annotations?.[DOCKER_REFERENCE_TYPE] === undefined &&
        !((m as { platform?: { os?: string } }).platform?.os === 'unknown'),
    );
    if (children.length > MAX_PLATFORMS)
      throw unscannable(`the index lists ${children.length} platforms; at most ${MAX_PLATFORMS} are scanned`);
    for (const m of children) {
      const child = await c.getManifest(repository, m.digest);
      if (isImageIndex(child.json)) throw unscannable(`${m.digest} is an index inside an index`);
      images.push({ platform: platformName(m), layers: child.json.layers });
    }
  }
  const tooMany = images.find((i) => i.layers.length > MAX_MANIFEST_LAYERS);
  if (tooMany)
    throw unscannable(
      `${tooMany.platform} has ${tooMany.layers.length} layers; at most ${MAX_MANIFEST_LAYERS} are scanned`,
    );
  return images;
}

/** One result for several platforms: a layer two platforms share is reported once. */
function mergeScans(results: SecretScanResult[]): SecretScanResult {
  if (results.length === 1) return results[0];
  const seen = new Set<string>();
  const findings = results
    .flatMap((r) => r.findings)
    .filter((f) => {
      const key = `${f.layer}\u0000${f.path}\u0000${f.fingerprint}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const problems = results.flatMap((r) => r.problems);
  const stats = results
    .map((r) => r.stats)
    .reduce((a, b) => {
      const sum = { ...a };
      for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] = a[k] + b[k];
      return sum;
    });
  const status = problems.length
    ? CheckStatus.Error
    : findings.length || stats.findingsDropped
      ? CheckStatus.Fail
      : CheckStatus.Pass;
  return { status, findings, problems, stats };
}

/**
 * Credentials left in the image: every layer streamed once from the source registry and read in
 * memory (libs/scan), in a scan process of its own (SECRET_SCAN_PROCESS=child, the default) or in
 * the worker (`inline`). A file deleted by a later layer is still in the image, and still a finding.
 */
@Injectable()
export class SecretsCheck implements CheckKind, OnApplicationShutdown {
  readonly kind = 'secrets';
  private readonly logger = new Logger(SecretsCheck.name);
  /** Scan processes; undefined when layers are read in the worker. */
  private readonly pool: RegistryProcessPool | undefined;

  /** Fingerprints are keyed per deployment: see fingerprintSecret. */
  private readonly fingerprintKey: Buffer;
  private readonly limits: Partial<SecretScanLimits>;
  /** Operators' rule sets (SECRET_SCAN_RULES_DIR), read and checked once, at boot. */
  private readonly ruleSets: ReadonlyMap<string, GitleaksRuleSet>;
  /** The rules of each combination of sets a policy names: one array each, so its pre-filter is built once. */
  private readonly extraRules = new Map<string, readonly CompiledSecretRule[]>();
  private readonly concurrency: number;
  /** Layer results of earlier scans, under the version of these rules, limits and key. */
  private readonly cache: LayerScanCache;

  constructor(
    private readonly registries: SourceRegistries,
    private readonly clock: Clock,
    key: SigningKey,
    config: AirlockConfig,
    cache: SecretScanCacheRepository,
  ) {
    this.fingerprintKey = key.deriveKey('secret fingerprints');
    this.limits = {
      maxUncompressedBytes: config.SECRET_SCAN_MAX_LAYER_BYTES,
      maxEntryBytes: Math.min(config.SECRET_SCAN_MAX_LAYER_BYTES, 4 * 1024 ** 3),
      maxEntries: config.SECRET_SCAN_MAX_ENTRIES,
      maxScannedFileBytes: config.SECRET_SCAN_MAX_FILE_BYTES,
      maxScanMillis: config.SECRET_SCAN_TIME_BUDGET_SECONDS * 1000,
    };
    this.concurrency = config.SECRET_SCAN_LAYER_CONCURRENCY;
    this.cache = cache.forVersion(
      layerScanVersion({ ...DEFAULT_SECRET_SCAN_LIMITS, ...this.limits }, this.fingerprintKey),
      config.SECRET_SCAN_CACHE_MAX_LAYERS,
    );
    this.pool =
      config.SECRET_SCAN_PROCESS === 'child'
        ? new RegistryProcessPool({
            role: 'scan',
            env: childProcessEnvironment(),
            maxProcesses: config.SECRET_SCAN_PROCESSES,
          })
        : undefined;
    // A bad rule file stops the process here, with every problem of every file.
    this.ruleSets = config.SECRET_SCAN_RULES_DIR
      ? readGitleaksRuleSets(config.SECRET_SCAN_RULES_DIR)
      : new Map();
  }

  /** The rules of the sets a policy names; a set that is not loaded refuses the check. */
  private rulesFor(names: readonly string[]): readonly CompiledSecretRule[] {
    const key = names.join('\n');
    let rules = this.extraRules.get(key);
    if (!rules) {
      const missing = names.filter((n) => !this.ruleSets.has(n));
      if (missing.length > 0)
        throw Failure.permanent(
          `the policy names secret rule set(s) ${missing.join(', ')}, which this deployment does not have (SECRET_SCAN_RULES_DIR holds ${[...this.ruleSets.keys()].join(', ') || 'none'})`,
        );
      rules = names.flatMap((n) => this.ruleSets.get(n)!.rules);
      this.extraRules.set(key, rules);
    }
    return rules;
  }

  onApplicationShutdown(): void {
    this.pool?.close();
  }

  /**
   * Reads layers in a scan process: it fetches them from the source with the same configuration
   * (tokens asked of this process), and each layer's scan comes back to be cached and combined here.
   */
  private processReader(ctx: CheckContext, ruleSets: readonly string[]): LayerScanReader | undefined {
    const pool = this.pool;
    if (pool === undefined) return undefined;
    const p = ctx.promotion;
    const source = this.registries.sourceConfig(ctx.sources, p.sourceRegistry);
    const credentials = source.credentials;
    return async (layers, onLayer) => {
      if (layers.length === 0) return;
      const account = await pool.scan(
        {
          registry:
            credentials !== undefined && 'tokenSupplier' in credentials
              ? {
                  ...source,
                  credentials: { tokenSupplier: pullOf(p.sourceRepository, credentials.tokenSupplier) },
                }
              : source,
          repository: p.sourceRepository,
        },
        {
          layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size ?? 0 })),
          limits: this.limits,
          fingerprintKey: this.fingerprintKey.toString('base64'),
          rules: ruleSets.map((set) => ({ set, toml: this.ruleSets.get(set)!.toml })),
          concurrency: this.concurrency,
        },
        (digest, scan) => onLayer(digest, layerScanFromWire(scan)),
        // A process that stops answering frees its slot: the scan's own budget, and a margin for
        // the last file and the results' way back.
        { deadlineMs: (this.limits.maxScanMillis ?? DEFAULT_SECRET_SCAN_LIMITS.maxScanMillis) + 30_000 },
      );
      this.logger.debug({
        msg: 'scan process done',
        digest: p.digest,
        layers: layers.length,
        forked: account.forked,
        peakRss: account.usage.peakRss,
        cpuMs: Math.round(account.usage.cpuMs),
      });
    };
  }

  applies(policy: PolicyDocument): boolean {
    return policy.scans?.secrets !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const p = ctx.promotion;
    const ruleSets = ctx.policy.scans?.secrets?.rules ?? [];
    const extraRules = this.rulesFor(ruleSets);
    const reader = this.processReader(ctx, ruleSets);
    const result = await this.registries.with(ctx.sources, p.sourceRegistry, async (c) => {
      const images = await platformImages(c, p.sourceRepository, p.digest);
      // Each platform on its own: a whiteout in one platform's layers says nothing of another's.
      const results: SecretScanResult[] = [];
      for (const image of images) {
        const layers: ScanLayer[] = image.layers.map((d) => ({
          digest: d.digest,
          mediaType: d.mediaType,
          size: d.size,
          // The client verifies size and digest while streaming; the scan need not hash again.
          open: () => c.getBlob(p.sourceRepository, d.digest, { maxBytes: d.size, size: d.size }),
        }));
        results.push(
          await scanLayers(layers, this.limits, {
            verifyDigest: false,
            fingerprintKey: this.fingerprintKey,
            extraRules,
            // Cached layer results are the built-in rules' only: a policy's own rule sets scan afresh.
            cache: extraRules && extraRules.length > 0 ? undefined : this.cache,
            concurrency: this.concurrency,
            reader,
          }),
        );
      }
      return mergeScans(results);
    });

    const now = new Date(this.clock.now());
    const allow = (ctx.policy.scans?.secrets?.allow ?? []).filter((a) => exceptionApplies(a, now));
    // Paths are allow-listed only where the policy says so (vendored test fixtures, say).
    const allowPaths = (ctx.policy.scans?.secrets?.allowPaths ?? [])
      .filter((a) => exceptionApplies(a, now))
      .map((a) => ({ ...a, pattern: RE2JS.compile(a.path) }));
    const findings = result.findings.map((f) => {
      const allowed =
        allow.find((a) => a.fingerprint === f.fingerprint) ??
        allowPaths.find((a) => a.pattern.matcher(f.path).find());
      return allowed
        ? { ...f, blocking: false, note: `allow-listed until ${allowed.expires}: ${allowed.reason}` }
        : { ...f, blocking: true };
    });
    const blocking = findings.filter((f) => f.blocking);
    const lines = blocking.map(
      (f) =>
        `${f.title} in ${f.path}${f.line ? `:${f.line}` : ''} (layer ${f.layer.slice(0, 19)}…${f.deletedIn ? ', deleted by a later layer but still in the image' : ''}; fingerprint ${f.fingerprint}): ${f.fix}`,
    );
    const problems = result.problems.map((pr) => ({
      problem: pr.kind,
      layer: pr.layer,
      path: pr.path,
      message: pr.message,
    }));
    if (result.status === CheckStatus.Error) {
      return {
        status: CheckStatus.Error,
        summary: summariseSecretScan(result),
        findings: [...problems, ...findings],
        blocking: result.problems.map(
          (pr) => `${pr.message}${pr.path ? ` (${pr.path})` : ''} in layer ${pr.layer}`,
        ),
        failure: new Failure(summariseSecretScan(result), result.problems.every(isPermanent)),
      };
    }
    const dropped = result.stats.findingsDropped;
    const summary =
      blocking.length || dropped
        ? `${blocking.length + dropped} secret(s) found in ${result.stats.layers} layer(s)${findings.length > blocking.length ? ` (${findings.length - blocking.length} allow-listed)` : ''}`
        : `${summariseSecretScan(result)}${findings.length ? ` (${findings.length} allow-listed)` : ''}`;
    return {
      status: blocking.length || dropped ? CheckStatus.Fail : CheckStatus.Pass,
      summary,
      findings,
      blocking: lines,
    };
  }
}
