import { Injectable } from '@nestjs/common';
import { readSbom, type SbomPackage } from '../../sbom';
import { CheckStatus } from '../../domain';
import { type CheckContext, type CheckResult } from '../check/check-kind';
import { VerifiedAttestationsSource } from '../trust-checks/verified-attestations.source';
import { PromotionEvidenceRepository } from '../verification/promotion-evidence.repository';

/** The packages of the image's verified SBOM attestations, merged. */
export interface ImageSbom {
  packages: SbomPackage[];
  /** Which attestations they came from: `#2 cyclonedx`. */
  sources: string[];
  /** Entries that could not be read (a malformed package URL). */
  problems: string[];
  /** Whole SBOMs that could not be read (not valid against their schema): every package in them is unseen. */
  unreadable: string[];
}

export type SbomLookup =
  | { found: true; sbom: ImageSbom }
  /** `couldNotVerify`: the verification itself failed (retry), rather than finding no SBOM (refuse). */
  | { found: false; why: string; couldNotVerify?: boolean };

/** The check result when there is no SBOM to read. */
export function lookupFailure(lookup: Extract<SbomLookup, { found: false }>): CheckResult {
  return lookup.couldNotVerify
    ? { status: CheckStatus.Error, summary: lookup.why, findings: [] }
    : { status: CheckStatus.Fail, summary: lookup.why, findings: [], blocking: [lookup.why] };
}

/**
 * The SBOM-based scans read only SBOMs whose attestation verified with the policy's signers and
 * is about the promoted digest: an unsigned SBOM could hide any package.
 */
@Injectable()
export class SbomSource {
  constructor(
    private readonly attestations: VerifiedAttestationsSource,
    private readonly evidence: PromotionEvidenceRepository,
  ) {}

  async forPromotion(ctx: CheckContext): Promise<SbomLookup> {
    const verified = this.attestations.forPromotion(ctx);
    if (!verified) return { found: false, why: 'the policy names no signers, so no SBOM can be trusted' };
    const r = await verified;
    if (r.status === CheckStatus.Error && r.sboms.length === 0) {
      return {
        found: false,
        why: `the attestations could not be verified: ${r.summary}`,
        couldNotVerify: true,
      };
    }
    if (r.sboms.length === 0) {
      return {
        found: false,
        why: 'no SBOM attestation verified for this digest: attach one signed by a trusted signer (e.g. cosign attest --type cyclonedx)',
      };
    }
    const packages: SbomPackage[] = [];
    const problems: string[] = [];
    const unreadable: string[] = [];
    const seen = new Set<string>();
    for (const s of r.sboms) {
      try {
        const contents = readSbom(s.format, s.document);
        problems.push(...contents.problems.map((p) => `#${s.index}: ${p}`));
        for (const p of contents.packages) {
          // Two SBOMs of one image (SPDX and CycloneDX) list the same packages.
          const key = p.purl ?? `${p.name}@${p.version ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          packages.push(p);
        }
      } catch (e) {
        unreadable.push(`#${s.index}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // Kept for continuous verification (once per stage run, whichever scan read it first), so later
    // advisories and policies are judged against what this decision saw, without the registry.
    // A dry run (no promotion id) stores nothing.
    const promotionId = ctx.promotion.id;
    if (promotionId !== undefined) {
      const key = `evidence:${promotionId}`;
      if (!ctx.shared.has(key)) ctx.shared.set(key, this.evidence.recordPackages(promotionId, packages));
      await ctx.shared.get(key);
    }
    return {
      found: true,
      sbom: { packages, sources: r.sboms.map((s) => `#${s.index} ${s.format}`), problems, unreadable },
    };
  }
}
