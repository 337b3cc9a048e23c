import { Injectable } from '@nestjs/common';
import { CheckStatus, type PolicyDocument } from '../../domain';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { VerifiedAttestationsSource } from './verified-attestations.source';

/**
 * In-toto attestations about the image (cosign `.att` envelopes and Sigstore bundles attached as
 * referrers), signed by the policy's trusted signers, then checked for content: SLSA provenance
 * (builder, source, and the commit the CI token claims) and SBOMs.
 */
@Injectable()
export class AttestationsCheck implements CheckKind {
  readonly kind = 'attestations';

  constructor(private readonly attestations: VerifiedAttestationsSource) {}

  applies(policy: PolicyDocument): boolean {
    return policy.attestations !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const verified = this.attestations.forPromotion(ctx);
    if (!verified) {
      return {
        status: CheckStatus.Error,
        summary: 'attestations need a signatures section naming their signers',
        findings: [],
      };
    }
    const r = await verified;
    return { status: r.status, summary: r.summary, findings: r.findings };
  }
}
