import { policyDocumentProblems } from './policy-schema';
import { type PolicyDocument } from './policy';
import { approvalsNeeded } from './approval-rules';
import { policyFor, PromotionKind } from './rollback-policy';

const base: PolicyDocument = {
  approvals: { required: 2, expiresAfter: '24h', separationOfDuties: { requesterCannotApprove: true } },
  signatures: { keys: [] },
  scans: { secrets: {} },
};

describe(policyFor.name, () => {
  it('a promotion is decided under the document itself', () => {
    expect(policyFor(base, PromotionKind.Promotion)).toBe(base);
  });

  it('a rollback keeps the signature checks, skips the scans and needs its own approvals', () => {
    const p = policyFor({ ...base, rollback: { approvals: 1 } }, PromotionKind.Rollback);
    expect(p.signatures).toBe(base.signatures);
    expect(p.scans).toBeUndefined();
    expect(p.rollback).toBeUndefined();
    expect(approvalsNeeded(p.approvals)).toBe(1);
    expect(p.approvals.expiresAfter).toBe('24h');
    expect(p.approvals.separationOfDuties).toEqual({ requesterCannotApprove: true });
  });

  it('without a rollback section: the approvals of a promotion, no scans', () => {
    const p = policyFor(base, PromotionKind.Rollback);
    expect(approvalsNeeded(p.approvals)).toBe(2);
    expect(p.scans).toBeUndefined();
  });

  it('rescan keeps the scans; zero approvals is allowed', () => {
    const p = policyFor({ ...base, rollback: { approvals: 0, rescan: true } }, PromotionKind.Rollback);
    expect(p.scans).toBe(base.scans);
    expect(approvalsNeeded(p.approvals)).toBe(0);
  });

  it("a rollback's approvers come from the promotion rules' groups when every rule names some", () => {
    const p = policyFor(
      {
        approvals: {
          rules: [
            { name: 'release', required: 2, groups: ['release-managers'] },
            { name: 'security', required: 1, groups: ['security'] },
          ],
        },
        rollback: { approvals: 1 },
      },
      PromotionKind.Rollback,
    );
    expect(p.approvals.rules).toEqual([
      { name: 'rollback', required: 1, groups: ['release-managers', 'security'] },
    ]);
  });
});

describe('the rollback section of a policy', () => {
  it.each([
    [{ approvals: { required: 2 }, rollback: { approvals: 1, rescan: false } }, []],
    [{ approvals: { required: 2 }, rollback: {} }, []],
    [
      { approvals: { required: 1 }, rollback: { approvals: 2 } },
      ['/rollback/approvals: a rollback may not need more approvals (2) than a promotion (1)'],
    ],
    [{ approvals: { required: 1 }, rollback: { approvals: -1 } }, ['/rollback/approvals: must be >= 0']],
    [{ approvals: { required: 1 }, rollback: { soak: '1h' } }, ['/rollback: unknown field "soak"']],
  ])('%j → %j', (document, problems) => {
    expect(policyDocumentProblems(document)).toEqual(problems);
  });
});
