import { Injectable } from '@nestjs/common';
import { CheckStatus, exceptionApplies, type PolicyDocument } from '../../domain';
import { isImageIndex, type Descriptor, type RegistryClient } from '../../oci';
import { type LayerProblem, scanLayers, type ScanLayer, summariseSecretScan } from '../../scan';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { Clock } from '../common/clock';
import { SourceRegistries } from '../registry/source-registries';

/** Platforms of a multi-platform image scanned (each platform's layers are the image too). */
const MAX_PLATFORMS = 16;
const MAX_MANIFEST_LAYERS = 500;

/** Problems the image itself causes: reading it again gives the same answer. */
const PERMANENT: ReadonlySet<LayerProblem['kind']> = new Set([
  'limit',
  'malformed',
  'path-traversal',
  'link-escape',
  'unsupported-media-type',
]);

async function imageLayers(c: RegistryClient, repository: string, digest: string): Promise<Descriptor[]> {
  const top = await c.getManifest(repository, digest);
  if (!isImageIndex(top.json)) return top.json.layers;
  const layers: Descriptor[] = [];
  for (const m of top.json.manifests.slice(0, MAX_PLATFORMS)) {
    const child = await c.getManifest(repository, m.digest);
    if (!isImageIndex(child.json)) layers.push(...child.json.layers);
  }
  return layers;
}

/**
 * Credentials left in the image: every layer streamed once from the source registry and read in
 * memory (libs/scan). A file deleted by a later layer is still in the image, and still a finding.
 */
@Injectable()
export class SecretsCheck implements CheckKind {
  readonly kind = 'secrets';

  constructor(
    private readonly registries: SourceRegistries,
    private readonly clock: Clock,
  ) {}

  applies(policy: PolicyDocument): boolean {
    return policy.scans?.secrets !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const p = ctx.promotion;
    const result = await this.registries.with(ctx.sources, p.sourceRegistry, async (c) => {
      const descriptors = await imageLayers(c, p.sourceRepository, p.digest);
      if (descriptors.length > MAX_MANIFEST_LAYERS)
        throw new Error(
          `the image has ${descriptors.length} layers; at most ${MAX_MANIFEST_LAYERS} are scanned`,
        );
      const layers: ScanLayer[] = descriptors.map((d) => ({
        digest: d.digest,
        mediaType: d.mediaType,
        // The client verifies size and digest while streaming; the scan need not hash again.
        open: () => c.getBlob(p.sourceRepository, d.digest, { maxBytes: d.size, size: d.size }),
      }));
      return scanLayers(layers, {}, { verifyDigest: false });
    });

    const now = new Date(this.clock.now());
    const allow = (ctx.policy.scans?.secrets?.allow ?? []).filter((a) => exceptionApplies(a, now));
    const findings = result.findings.map((f) => {
      const allowed = allow.find((a) => a.fingerprint === f.fingerprint);
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
        permanent: result.problems.every((pr) => PERMANENT.has(pr.kind)),
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
