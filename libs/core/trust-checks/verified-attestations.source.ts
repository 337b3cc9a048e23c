import { Injectable } from '@nestjs/common';
import { type AttestationInput, type AttestationVerification, verifyAttestations } from '../../trust';
import { type CheckContext } from '../check/check-kind';
import { TrustEvidenceSource } from './trust-evidence.source';

/**
 * The image's attestations verified against the policy's signers, once per check stage: the
 * attestations check judges them, the SBOM-based scans read the SBOMs among them.
 * Null when the policy names no signers (nothing attested can be trusted then).
 */
@Injectable()
export class VerifiedAttestationsSource {
  constructor(private readonly evidence: TrustEvidenceSource) {}

  forPromotion(ctx: CheckContext): Promise<AttestationVerification> | null {
    const signers = ctx.policy.signatures;
    if (!signers) return null;
    const key = `verified-attestations:${ctx.promotion.digest}`;
    let pending = ctx.shared.get(key) as Promise<AttestationVerification> | undefined;
    if (!pending) {
      pending = (async () => {
        const ev = await this.evidence.forPromotion(ctx);
        const inputs: AttestationInput[] = [
          ...ev.cosignAttestations.map((a) => ({ envelope: a.envelope, annotations: a.annotations })),
          ...ev.attestationBundles.map((bundle) => ({ bundle })),
        ];
        const claims = ctx.promotion.claims;
        return verifyAttestations(inputs, {
          digest: ctx.promotion.digest,
          trust: { policy: signers, trustedRoot: signers.trustedRoot },
          policy: ctx.policy.attestations ?? {},
          ciClaims: {
            repository: typeof claims.repository === 'string' ? claims.repository : undefined,
            ref: typeof claims.ref === 'string' ? claims.ref : undefined,
            sha: typeof claims.sha === 'string' ? claims.sha : undefined,
          },
        });
      })();
      ctx.shared.set(key, pending);
    }
    return pending;
  }
}
