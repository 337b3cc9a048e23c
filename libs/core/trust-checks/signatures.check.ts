import { Injectable } from '@nestjs/common';
import { CheckStatus, type PolicyDocument } from '../../domain';
import {
  signatureVerdict,
  type TrustFinding,
  verifyCosignSimpleSigning,
  verifySigstoreBundles,
} from '../../trust';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { TrustEvidenceSource } from './trust-evidence.source';

/**
 * Cosign-compatible signatures on the source image: the `.sig` tag scheme (key-based and keyless)
 * and Sigstore bundles attached as referrers, counted against the policy's trusted signers.
 */
@Injectable()
export class SignaturesCheck implements CheckKind {
  readonly kind = 'signatures';

  constructor(private readonly evidence: TrustEvidenceSource) {}

  applies(policy: PolicyDocument): boolean {
    return policy.signatures !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const section = ctx.policy.signatures;
    if (!section)
      return { status: CheckStatus.Error, summary: 'the policy has no signatures section', findings: [] };
    const ev = await this.evidence.forPromotion(ctx);
    const digest = ctx.promotion.digest;
    const trust = { policy: section, trustedRoot: section.trustedRoot };

    const findings: TrustFinding[] = [];
    const errors: string[] = [];
    const ignored = new Set<string>();
    if (ev.cosignSignatures) {
      const r = await verifyCosignSimpleSigning(
        { manifest: ev.cosignSignatures.json, layers: ev.signatureLayers, digest },
        trust,
      );
      findings.push(...r.findings.map((f) => ({ ...f, detail: `.sig layer: ${f.detail}` })));
      errors.push(...r.errors);
      r.ignored?.forEach((i) => ignored.add(i));
    }
    if (ev.signatureBundles.length > 0) {
      const offset = findings.length;
      const r = verifySigstoreBundles(ev.signatureBundles, { digest, manifest: ev.manifest.bytes }, trust);
      findings.push(
        ...r.findings.map((f) => ({ ...f, index: f.index + offset, detail: `referrer bundle: ${f.detail}` })),
      );
      errors.push(...r.errors);
      r.ignored?.forEach((i) => ignored.add(i));
    }
    const verdict = signatureVerdict(findings, section.minimum ?? 1, errors, [...ignored]);
    return { status: verdict.status, summary: verdict.summary, findings: verdict.findings };
  }
}
