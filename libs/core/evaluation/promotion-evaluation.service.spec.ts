import { Logger } from '@nestjs/common';
import { CheckStatus, Failure, type PolicyDocument, PromotionStatus as S } from '../../domain';
import { type AuditRepository } from '../audit/audit.repository';
import { type CheckKind, type CheckResult } from '../check/check-kind';
import { type CheckRepository } from '../check/check.repository';
import { CheckStageService } from '../check/check-stage.service';
import { type Clock } from '../common/clock';
import { type EnvironmentEntity } from '../environment/environment.entity';
import { type EnvironmentService } from '../environment/environment.service';
import { type Caller } from '../identity/caller';
import { type IdentityService } from '../identity/identity.service';
import { Role } from '../identity/role-binding.entity';
import { type PolicyVersionEntity } from '../policy/policy-version.entity';
import { type PolicyService } from '../policy/policy.service';
import { type PromotionService } from '../promotion/promotion.service';
import { InMemoryPromotions } from '../testing/in-memory-promotions';
import { type WebhookService } from '../webhook/webhook.service';
import { type PromotionGateService } from '../gate/gate.service';
import { type WaiverService } from '../waiver/waiver.service';
import { PromotionEvaluationService } from './promotion-evaluation.service';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const env = {
  id: 'env-1',
  name: 'production',
  upstreams: [] as string[],
  sources: [{ registry: 'r.example.com', repositories: ['acme/*'] }],
} as unknown as EnvironmentEntity;
const signed: PolicyDocument = { approvals: { required: 1 }, signatures: { keys: [] } };
const stricter: PolicyDocument = { ...signed, scans: { secrets: {} } };
const version = (n: number, document: PolicyDocument): PolicyVersionEntity =>
  ({ id: `v${n}`, version: n, sha256: String(n).repeat(64), document }) as PolicyVersionEntity;
const pass: CheckResult = { status: CheckStatus.Pass, summary: 'ok', findings: [] };
const caller = {
  actor: { kind: 'ci' },
  key: 'ci-app@https://ci',
  claims: { actor: 'carol' },
  grants: [{ role: Role.Admin, environment: null }],
} as unknown as Caller;

function kind(
  name: string,
  result: () => CheckResult,
  applies: (p: PolicyDocument) => boolean,
): CheckKind & {
  runs: number;
} {
  const k = {
    kind: name,
    runs: 0,
    applies,
    run: async () => {
      k.runs++;
      return result();
    },
  };
  return k;
}

function setup(secrets: () => CheckResult = () => pass) {
  const promotions = new InMemoryPromotions();
  const signatures = kind(
    'signatures',
    () => pass,
    (p) => !!p.signatures,
  );
  const secretScan = kind('secrets', secrets, (p) => !!p.scans?.secrets);
  const stage = new CheckStageService(
    [signatures, secretScan],
    promotions.asRepository,
    {} as CheckRepository,
    {} as PolicyService,
    promotions.asStateMachine,
    {} as EnvironmentService,
    {} as WebhookService,
    {} as WaiverService,
  );
  const stored = new Map<
    string,
    Array<{ kind: string; status: CheckStatus; summary: string; findings: [] }>
  >();
  const audit: string[] = [];
  const versions = [version(1, signed), version(2, stricter)];
  const service = new PromotionEvaluationService(
    {
      admit: async () => ({
        env,
        requested: { registry: 'r.example.com', repository: 'acme/app', digest: DIGEST },
      }),
      resolve: async (_: unknown, r: unknown) => r,
    } as unknown as PromotionService,
    {
      list: async () =>
        [...promotions.rows.values()].map((p) => Object.assign(p, { policyVersion: 1 })).reverse(),
    } as never,
    stage,
    { forPromotions: async () => stored } as unknown as CheckRepository,
    {
      activeVersion: async () => versions[0],
      version: async (_: string, n: number) => versions[n - 1],
      byId: async (id: string) => versions.find((v) => v.id === id),
    } as unknown as PolicyService,
    {
      listBindings: async () => [
        { role: Role.Approver, environment: null, issuer: 'https://login', subject: null, group: 'release' },
        {
          role: Role.BreakGlass,
          environment: 'production',
          issuer: 'https://login',
          subject: 'frank',
          group: null,
        },
      ],
    } as unknown as IdentityService,
    { record: async (e: { action: string }) => void audit.push(e.action) } as unknown as AuditRepository,
    { now: () => 0 } as Clock,
    { inForceFor: async () => [] } as unknown as WaiverService,
    { preview: async () => gate.decision } as unknown as PromotionGateService,
  );
  return { service, promotions, stored, audit, signatures, secretScan };
}

/** What the gate would decide (a test may change it). */
const gate: { decision: unknown } = { decision: null };
const PROCEED = {
  action: 'proceed',
  evidence: { upstream: null, soak: null, freeze: { overridden: false, windows: [] } },
};

describe(PromotionEvaluationService.name, () => {
  beforeEach(() => {
    gate.decision = PROCEED;
    env.upstreams = [];
  });

  beforeAll(() => Logger.overrideLogger(false));

  it('answers what a request would meet: checks, approvals and from whom, break-glass; audits once', async () => {
    const { service, audit, promotions } = setup();
    const e = await service.dryRun({ artifact: 'x', environment: 'production' }, caller);
    expect(e).toMatchObject({
      decision: 'awaiting_approval',
      checks: [{ kind: 'signatures', status: 'pass', source: 'ran' }],
      approvals: {
        required: 1,
        approvers: ['group release at https://login (every environment)'],
        excluded: ['ci-app@https://ci (the requester)', "handle:carol (the CI run's actor)"],
      },
      breakGlass: { couldApply: true, holders: ['subject frank at https://login'] },
      conditions: [],
    });
    expect(audit).toEqual(['promotion.evaluated']);
    expect(promotions.history).toEqual([]);
  });

  it('says what the chain, soak and freeze would do before the copy, as the gate judges now', async () => {
    const { service } = setup();
    env.upstreams = ['staging'];
    gate.decision = {
      action: 'wait',
      for: 'soak',
      until: new Date('2026-06-02T00:00:00Z'),
      reason: 'soaking in staging until 2026-06-02T00:00:00.000Z',
    };
    const waiting = await service.dryRun({ artifact: 'x', environment: 'production' }, caller);
    expect(waiting.conditions).toEqual([{ kind: 'chain', state: 'met', detail: 'chain: would not hold it' }]);
    gate.decision = { action: 'refuse', reason: 'not promoted into staging' };
    const refused = await service.dryRun({ artifact: 'x', environment: 'production' }, caller);
    expect(refused.conditions).toEqual([
      { kind: 'chain', state: 'blocked', detail: 'not promoted into staging' },
    ]);
    gate.decision = {
      action: 'proceed',
      evidence: {
        upstream: {
          environment: 'staging',
          promotionId: 'p-1',
          tag: 'v1',
          promotedAt: '2026-06-01T00:00:00Z',
        },
        soak: null,
        freeze: { overridden: false, windows: [] },
      },
    };
    const met = await service.dryRun({ artifact: 'x', environment: 'production' }, caller);
    expect(met.conditions).toEqual([
      { kind: 'chain', state: 'met', detail: 'promoted into staging (promotion p-1)' },
    ]);
  });

  it('is undetermined, not retried, when a check could not run', async () => {
    const { service } = setup(() => ({
      ...pass,
      status: CheckStatus.Error,
      failure: Failure.transient('503'),
    }));
    const e = await service.evaluatePolicy(env, 2, { artifact: `r.example.com/acme/app@${DIGEST}` }, caller);
    expect(e.evaluation).toMatchObject({
      decision: 'undetermined',
      breakGlass: { couldApply: false },
    });
  });

  it('judges past promotions from stored results where the section is unchanged, and runs the rest', async () => {
    const { service, promotions, stored, signatures, secretScan } = setup(() => ({
      status: CheckStatus.Fail,
      summary: '1 secret',
      findings: [],
      blocking: ['key in /app'],
    }));
    const p = promotions.add({ status: S.AwaitingApproval, policyVersionId: 'v1' });
    promotions.add({ status: S.Checking, policyVersionId: 'v1' }); // not judged yet: left out
    stored.set(p.id, [{ kind: 'signatures', status: CheckStatus.Pass, summary: 'stored ok', findings: [] }]);

    const same = await service.evaluatePolicy(env, 1, { lastN: 10 }, caller);
    expect(same).toMatchObject({ evaluated: 1, wouldAwaitApproval: 1 });
    expect(same.promotions[0].checks).toEqual([
      expect.objectContaining({ summary: 'stored ok', source: 'stored' }),
    ]);
    expect(signatures.runs).toBe(0);

    const strict = await service.evaluatePolicy(env, 2, { lastN: 10 }, caller);
    expect(strict).toMatchObject({
      evaluated: 1,
      wouldReject: 1,
      newlyRejected: 1,
      summary: 'this version would have rejected 1 of the last 1 (1 not rejected then)',
    });
    expect(strict.promotions[0].reasons).toEqual(['secrets: 1 secret', 'secrets: key in /app']);
    expect(secretScan.runs).toBe(1);
  });

  it('needs an admin or approver of the environment, and exactly one thing to judge', async () => {
    const { service } = setup();
    const requester = { ...caller, grants: [{ role: Role.Requester, environment: null }] };
    await expect(service.evaluatePolicy(env, 2, { lastN: 5 }, requester)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(service.evaluatePolicy(env, 2, {}, caller)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
