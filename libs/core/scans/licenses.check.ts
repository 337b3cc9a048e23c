import { Injectable } from '@nestjs/common';
import { CheckStatus, type PolicyDocument } from '../../domain';
import { evaluateLicense } from '../../sbom';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { lookupFailure, SbomSource } from './sbom.source';

export interface LicenseFinding {
  package: string;
  name: string;
  version: string | null;
  license: string | null;
  outcome: 'denied' | 'not-allowed' | 'unknown';
  detail: string;
  fix: string;
  blocking: boolean;
}

/**
 * The SBOM's package licenses against the policy's SPDX allow and deny lists. Packages without a
 * package URL (the image itself, files) are not software with a license of their own and are skipped.
 */
@Injectable()
export class LicensesCheck implements CheckKind {
  readonly kind = 'licenses';

  constructor(private readonly sboms: SbomSource) {}

  applies(policy: PolicyDocument): boolean {
    return policy.scans?.licenses !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const section = ctx.policy.scans?.licenses;
    if (!section)
      return { status: CheckStatus.Error, summary: 'the policy has no licenses section', findings: [] };
    const lookup = await this.sboms.forPromotion(ctx);
    if (!lookup.found) return lookupFailure(lookup);
    const unknownBlocks = (section.unknown ?? 'fail') === 'fail';
    const findings: LicenseFinding[] = [];
    const packages = lookup.sbom.packages.filter((p) => p.purl);
    for (const p of packages) {
      const v = evaluateLicense(p.license, section);
      if (v.outcome === 'allowed') continue;
      const where = p.purl ?? p.name;
      const base = { package: where, name: p.name, version: p.version, license: p.license };
      if (v.outcome === 'denied') {
        findings.push({
          ...base,
          outcome: 'denied',
          detail: `${p.license} needs ${v.licenses.join(', ')}, which the policy denies`,
          fix: `remove ${p.name} or replace it with a package under an allowed license`,
          blocking: true,
        });
      } else if (v.outcome === 'not-allowed') {
        findings.push({
          ...base,
          outcome: 'not-allowed',
          detail: `${p.license} is not satisfied by the allowed licenses`,
          fix: `remove ${p.name}, or have the license reviewed and added to the policy's allow list`,
          blocking: true,
        });
      } else {
        findings.push({
          ...base,
          outcome: 'unknown',
          detail: v.why,
          fix: `record ${p.name}'s license in the SBOM (an SPDX expression)`,
          blocking: unknownBlocks,
        });
      }
    }
    // An SBOM that could not be read hides its packages' licenses: they are unknown.
    for (const problem of lookup.sbom.unreadable) {
      findings.push({
        package: problem,
        name: '',
        version: null,
        license: null,
        outcome: 'unknown',
        detail: `not readable: ${problem}`,
        fix: 'attach an SBOM that validates against its format’s schema',
        blocking: unknownBlocks,
      });
    }
    const blocking = findings.filter((f) => f.blocking);
    const counts = (['denied', 'not-allowed', 'unknown'] as const)
      .map((o) => [o, findings.filter((f) => f.outcome === o).length] as const)
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${n} ${o}`);
    const summary = `${packages.length} package licenses checked${counts.length ? `: ${counts.join(', ')}` : ', all allowed'}${
      blocking.length ? `; ${blocking.length} blocking` : ''
    }`;
    return {
      status: blocking.length ? CheckStatus.Fail : CheckStatus.Pass,
      summary,
      findings,
      blocking: blocking.map((f) => `${f.package}: ${f.detail}; ${f.fix}`),
    };
  }
}
