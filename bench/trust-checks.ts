// `node dist/bench/trust-checks.js`: how long the worker's trust checks (signatures, attestations)
// take for one image with two key-based cosign signatures (two keys) and two key-signed DSSE
// attestations (SLSA provenance, SPDX SBOM) in cosign's `.att` format, against a real registry
// (distribution 2.8) on loopback, and how many registry requests they make.
//
// The real check code runs in this process, wired the way the worker wires it: SignaturesCheck and
// AttestationsCheck over one TrustEvidenceSource over SourceRegistries over RegistryClientFactory,
// so every run gets a fresh RegistryClient (new connections, no cached tokens) and collects the
// evidence once for both checks (shared per stage run). A run = both checks, fetch and verify.
// Requests are counted by a recording proxy in front of the registry, in separate runs (the
// timed runs talk to the registry directly, so the proxy's hop is not in the times).
//
// Settings (optional): TRUST_BENCH_RUNS=100 TRUST_BENCH_WARMUP=5 BENCH_DOC=docs/benchmarks.md|none
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type AirlockConfig } from '../libs/config';
import { CheckStatus, type PolicyDocument, type SourceRule } from '../libs/domain';
import { type CheckContext, type CheckResult } from '../libs/core/check/check-kind';
import { type PromotionEntity } from '../libs/core/promotion/promotion.entity';
import { type RegistryTokens } from '../libs/core/registry/registry-tokens';
import { SourceRegistries } from '../libs/core/registry/source-registries';
import { AttestationsCheck } from '../libs/core/trust-checks/attestations.check';
import { VerifiedAttestationsSource } from '../libs/core/trust-checks/verified-attestations.source';
import { SignaturesCheck } from '../libs/core/trust-checks/signatures.check';
import { TrustEvidenceSource } from '../libs/core/trust-checks/trust-evidence.source';
import { type TrustEvidence } from '../libs/core/trust-checks/trust-evidence';
import { RegistryClientFactory } from '../libs/oci/oci.module';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage } from '../test/support/oci-images';
import { startRegistry, startRegistryProxy } from '../test/support/registry';
import { generateTestKeyPair, GITHUB_BUILDER, slsaProvenanceV1, spdxSbom } from '../test/support/sigstore';
import {
  CI_SHA,
  CI_SOURCE_REPOSITORY,
  keyAttestation,
  pushCosignAttestations,
} from '../test/support/trust-fixtures';
import { fmt, machineInfo, percentile, writeMarkedSection } from './lib-report';

const env = process.env;
const RUNS = Number(env.TRUST_BENCH_RUNS ?? 100);
const WARMUP = Number(env.TRUST_BENCH_WARMUP ?? 5);
const COUNTED_RUNS = 5;
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const REPO = 'acme/app';

interface RunResult {
  totalMs: number;
  /** Until the evidence (manifests, `.att` layers, referrers) was collected. */
  evidenceMs: number;
  evidenceRequests: number;
  /** CPU time of this process (user + system) during the run. */
  cpuMs: number;
  results: Record<string, CheckResult>;
}

/** The worker's TrustEvidenceSource, noting when a stage run's evidence was in. */
class TimedEvidenceSource extends TrustEvidenceSource {
  private readonly times = new WeakMap<CheckContext, Promise<{ evidence: TrustEvidence; at: number }>>();

  override forPromotion(ctx: CheckContext): Promise<TrustEvidence> {
    const pending = super.forPromotion(ctx);
    if (!this.times.has(ctx)) {
      this.times.set(
        ctx,
        pending.then((evidence) => ({ evidence, at: performance.now() })),
      );
    }
    return pending;
  }

  collected(ctx: CheckContext): Promise<{ evidence: TrustEvidence; at: number }> {
    const t = this.times.get(ctx);
    if (t === undefined) throw new Error('no evidence was collected');
    return t;
  }
}

async function main(): Promise<void> {
  const info = machineInfo();
  const registry = await startRegistry();
  const proxy = await startRegistryProxy(registry.host);
  try {
    // --- Fixtures: one image, two signatures by two keys, two attestations by those keys.
    const release = generateTestKeyPair();
    const ci = generateTestKeyPair();
    const image = await pushImage(registry.host, REPO, 'v1', { layers: 2, layerSize: 4096 });
    const reference = `${registry.host}/${REPO}`;
    const payloads = [release, ci].map((key) => {
      const payload = cosignPayload(reference, image.digest, { creator: 'airlock bench' });
      return { payload, signature: cosignSign(payload, key.privateKey) };
    });
    await pushCosignSignatures(registry.host, REPO, image.digest, payloads);
    const provenance = slsaProvenanceV1(image.digest, { repository: CI_SOURCE_REPOSITORY, commit: CI_SHA });
    await pushCosignAttestations(registry.host, REPO, image.digest, [
      keyAttestation(provenance, release),
      keyAttestation(spdxSbom(image.digest), ci),
    ]);

    const policy = {
      signatures: {
        keys: [
          { name: 'release', publicKey: release.publicKeyPem },
          { name: 'ci', publicKey: ci.publicKeyPem },
        ],
        minimum: 2,
      },
      attestations: {
        provenance: {
          required: true,
          builderIds: [GITHUB_BUILDER],
          sourceRepositories: [CI_SOURCE_REPOSITORY],
          sourceRefs: ['refs/heads/main'],
        },
        sbom: { required: true, formats: ['spdx'] },
      },
    } as unknown as PolicyDocument;

    // --- The worker's wiring; no credentials in the source rule, so RegistryTokens is never asked.
    const registries = new SourceRegistries(
      new RegistryClientFactory(),
      {} as RegistryTokens,
      {
        REGISTRY_DEADLINE_SECONDS: 120,
        REGISTRY_MIN_BYTES_PER_SECOND: 1024 * 1024,
      } as AirlockConfig,
    );
    const evidence = new TimedEvidenceSource(registries);
    const kinds = [
      new SignaturesCheck(evidence),
      new AttestationsCheck(new VerifiedAttestationsSource(evidence)),
    ];

    const runOnce = async (host: string): Promise<RunResult> => {
      const promotion = {
        digest: image.digest,
        sourceRegistry: host,
        sourceRepository: REPO,
        claims: { repository: 'acme/app', ref: 'refs/heads/main', sha: CI_SHA },
      } as unknown as PromotionEntity;
      const sources: SourceRule[] = [{ registry: host, repositories: ['acme/*'], insecure: true }];
      const ctx: CheckContext = { promotion, policy, sources, shared: new Map() };
      const results: Record<string, CheckResult> = {};
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (const kind of kinds.filter((k) => k.applies(policy))) results[kind.kind] = await kind.run(ctx);
      const totalMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const { evidence: collected, at } = await evidence.collected(ctx);
      return {
        totalMs,
        evidenceMs: at - t0,
        evidenceRequests: collected.requests,
        cpuMs: (cpu.user + cpu.system) / 1000,
        results,
      };
    };

    const verify = (r: RunResult): void => {
      for (const [kind, result] of Object.entries(r.results)) {
        const verified = (result.findings as { reason?: string }[]).filter((f) => f.reason === 'verified');
        if (result.status !== CheckStatus.Pass || verified.length !== 2) {
          throw new Error(`${kind} did not pass with two verified findings: ${JSON.stringify(result)}`);
        }
      }
    };

    // --- Requests, through the recording proxy.
    const counted: { total: number; byKind: Record<string, number> }[] = [];
    for (let i = 0; i < COUNTED_RUNS; i++) {
      const before = proxy.requests.length;
      verify(await runOnce(proxy.host));
      const seen = proxy.requests.slice(before);
      const byKind: Record<string, number> = {};
      for (const r of seen) {
        const path = r.path.split('?')[0];
        const what = /\/manifests\//.test(path)
          ? 'manifest GET'
          : /\/blobs\//.test(path)
            ? 'blob GET'
            : /\/referrers\//.test(path)
              ? 'referrers API'
              : path === '/v2/'
                ? 'ping'
                : 'other';
        const key = `${what}${r.method === 'GET' ? '' : ` (${r.method})`}`;
        byKind[key] = (byKind[key] ?? 0) + 1;
      }
      counted.push({ total: seen.length, byKind });
    }
    const paths = proxy.requests
      .slice(-counted[counted.length - 1].total)
      .map((r) => `${r.method} ${r.path}`);

    // --- Timed runs, straight to the registry.
    for (let i = 0; i < WARMUP; i++) verify(await runOnce(registry.host));
    const load0 = loadavg()[0];
    const runs: RunResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await runOnce(registry.host);
      verify(r);
      runs.push(r);
    }

    const load1 = loadavg()[0];
    const totals = runs.map((r) => r.totalMs);
    const evidenceTimes = runs.map((r) => r.evidenceMs);
    const figures = {
      p50: percentile(totals, 50),
      p95: percentile(totals, 95),
      p99: percentile(totals, 99),
      min: Math.min(...totals),
      max: Math.max(...totals),
      evidenceP50: percentile(evidenceTimes, 50),
      cpuP50: percentile(
        runs.map((r) => r.cpuMs),
        50,
      ),
      requests: counted[0].total,
      requestsStable: counted.every((c) => c.total === counted[0].total),
      evidenceRequests: runs[0].evidenceRequests,
    };

    console.log(
      `trust checks (signatures + attestations), ${RUNS} runs after ${WARMUP} warm-up, registry on loopback:`,
    );
    console.log(
      `  p50 ${fmt(figures.p50, 2)} ms  p95 ${fmt(figures.p95, 2)} ms  p99 ${fmt(figures.p99, 2)} ms  ` +
        `min ${fmt(figures.min, 2)} ms  max ${fmt(figures.max, 2)} ms`,
    );
    console.log(
      `  evidence collected after (p50) ${fmt(figures.evidenceP50, 2)} ms; CPU of this process per run (p50) ` +
        `${fmt(figures.cpuP50, 2)} ms; load average ${fmt(load0, 1)} → ${fmt(load1, 1)} on ${cpus().length} cores`,
    );
    console.log(
      `  registry requests per run: ${figures.requests}${figures.requestsStable ? '' : ' (varied between runs)'} ` +
        `(${Object.entries(counted[0].byKind)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}); collectTrustEvidence counted ${figures.evidenceRequests} operations`,
    );
    for (const p of paths) console.log(`    ${p}`);

    if (DOC !== 'none') {
      const lines: string[] = [];
      lines.push('## Trust checks');
      lines.push('');
      lines.push(
        `Measured by \`node dist/bench/trust-checks.js\` (bench/trust-checks.ts) on ${info.date}, at ${info.revision}: ` +
          `${info.cpus}, ${info.memory}, Node ${info.node}. One image with two key-based cosign signatures ` +
          '(two keys, one `.sig` manifest) and two key-signed DSSE attestations (SLSA provenance v1 and an SPDX ' +
          'SBOM, one `.att` manifest), in a Debian `docker-registry` (distribution 2.8) on loopback; policy: both ' +
          'keys, `minimum: 2`, provenance and SBOM required.',
      );
      lines.push('');
      lines.push(
        '| runs | p50 ms | p95 ms | p99 ms | min ms | CPU ms per run (p50) | registry requests per run |',
      );
      lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      lines.push(
        `| ${RUNS} | ${fmt(figures.p50, 2)} | ${fmt(figures.p95, 2)} | ${fmt(figures.p99, 2)} | ${fmt(figures.min, 2)} | ` +
          `${fmt(figures.cpuP50, 2)} | ${figures.requests} |`,
      );
      lines.push('');
      lines.push(
        `The requests of one run: ${Object.entries(counted[0].byKind)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}. The evidence (everything but the \`.sig\` layers, which the signatures check ` +
          `fetches as it verifies) is in after ${fmt(figures.evidenceP50, 2)} ms (p50). The machine was shared: ` +
          `load average ${fmt(load0, 1)} at the start of the timed runs and ${fmt(load1, 1)} at the end, on ` +
          `${cpus().length} cores, so the wall times (p95, p99 above all) include waiting for a core; the CPU ` +
          'time of the bench process per run (the check code and its HTTP client; the registry runs apart) ' +
          'depends less on that.',
      );
      lines.push('');
      lines.push(
        '- A run is what the worker does for one promotion in the check stage: `SignaturesCheck` then ' +
          '`AttestationsCheck` (the real classes, in this process, no API or queue), sharing one ' +
          '`TrustEvidenceSource` collection; fetch and verify. Each run gets a fresh `RegistryClient` from ' +
          '`SourceRegistries` (new connections), as the worker does. ' +
          `${WARMUP} warm-up runs first; every run is checked to pass with two verified findings per check.`,
      );
      lines.push(
        '- Requests are counted by a recording proxy in front of the registry in ' +
          `${COUNTED_RUNS} separate runs; the timed runs go to the registry directly.`,
      );
      await writeMarkedSection(DOC, 'trust', lines.join('\n'));
      console.log(`wrote the trust section of ${DOC}`);
    }
  } finally {
    await proxy.stop();
    await registry.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
