import { Injectable } from '@nestjs/common';
import { CheckStatus, type PolicyDocument } from '../../domain';
import { type AttestationInput, verifyAttestations } from '../../trust';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { TrustEvidenceSource } from './trust-evidence.source';

/**
 * In-toto attestations about the image (cosign `.att` envelopes and Sigstore bundles attached as
 * referrers), signed by the policy's trusted signers, then checked for content: SLSA provenance
 * (builder, source, and the commit the CI token claims) and SBOMs.
 */
@Injectable()
export class AttestationsCheck implements CheckKind {
  readonly kind = 'attestations';

  constructor(private readonly evidence: TrustEvidenceSource) {}

  applies(policy: PolicyDocument): boolean {
    return policy.attestations !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const section = ctx.policy.attestations;
    const signers = ctx.policy.signatures;
    if (!section || !signers) {
      return {
        status: CheckStatus.Error,
        summary: 'attestations need a signatures section naming their signers',
        findings: [],
      };
    }
    const ev = await this.evidence.forPromotion(ctx);
    const inputs: AttestationInput[] = [
      ...ev.cosignAttestations.map((a) => ({ envelope: a.envelope, annotations: a.annotations })),
      ...ev.attestationBundles.map((bundle) => ({ bundle })),
    ];
    const claims = ctx.promotion.claims;
    const r = verifyAttestations(inputs, {
      digest: ctx.promotion.digest,
      trust: { policy: signers, trustedRoot: signers.trustedRoot },
      policy: section,
      ciClaims: {
        repository: typeof claims.repository === 'string' ? claims.repository : undefined,
        ref: typeof claims.ref === 'string' ? claims.ref : undefined,
        sha: typeof claims.sha === 'string' ? claims.sha : undefined,
      },
    });
    return { status: r.status, summary: r.summary, findings: r.findings };
  }
}
