import { Injectable } from '@nestjs/common';
import { CheckStatus, type PolicyDocument } from '../../domain';
import { advisoryKeys, matchVulnerabilities } from '../../vuln';
import { AdvisoryRepository } from '../advisory/advisory.repository';
import { type CheckContext, type CheckKind, type CheckResult } from '../check/check-kind';
import { Clock } from '../common/clock';
import { lookupFailure, SbomSource } from './sbom.source';

/**
 * The SBOM's packages against the imported OSV advisories, each ecosystem with its own version
 * order, judged by the policy's ceiling, fixable-only rule and allow-list.
 */
@Injectable()
export class VulnerabilitiesCheck implements CheckKind {
  readonly kind = 'vulnerabilities';

  constructor(
    private readonly sboms: SbomSource,
    private readonly advisories: AdvisoryRepository,
    private readonly clock: Clock,
  ) {}

  applies(policy: PolicyDocument): boolean {
    return policy.scans?.vulnerabilities !== undefined;
  }

  async run(ctx: CheckContext): Promise<CheckResult> {
    const section = ctx.policy.scans?.vulnerabilities;
    if (!section)
      return {
        status: CheckStatus.Error,
        summary: 'the policy has no vulnerabilities section',
        findings: [],
      };
    const lookup = await this.sboms.forPromotion(ctx);
    if (!lookup.found) return lookupFailure(lookup);
    const { packages, sources } = lookup.sbom;
    const problems = [...lookup.sbom.unreadable, ...lookup.sbom.problems];
    const { database, candidates } = await this.advisories.matchSnapshot(advisoryKeys(packages));
    if (!database) {
      // Matching against nothing would pass everything: refuse until an admin imports advisories.
      return {
        status: CheckStatus.Error,
        summary: 'no advisories have been imported (POST /v1/advisories/imports)',
        findings: [],
      };
    }
    const report = matchVulnerabilities(packages, candidates, section, new Date(this.clock.now()));
    const notes = [
      `SBOM ${sources.join(', ')}`,
      `advisory import #${database.seq}`,
      ...(lookup.sbom.unreadable.length ? [`${lookup.sbom.unreadable.length} SBOM(s) unreadable`] : []),
      ...(lookup.sbom.problems.length ? [`${lookup.sbom.problems.length} SBOM entries unreadable`] : []),
    ];
    // An SBOM entry that could not be read is a package that was not checked.
    const unreadBlocks = problems.length > 0 && (section.unresolved ?? 'fail') === 'fail';
    return {
      status: unreadBlocks ? CheckStatus.Fail : report.status,
      summary: `${report.summary} (${notes.join('; ')})`,
      findings: [
        ...report.findings,
        ...report.unresolved.map((u) => ({ unresolved: u })),
        ...problems.map((p) => ({ sbomProblem: p })),
      ],
      blocking: [...report.blocking, ...(unreadBlocks ? problems.map((p) => `cannot be checked: ${p}`) : [])],
    };
  }
}
