import { evaluateGate, type GateInput, type UpstreamOccupancy, upstreamStanding } from './promotion-gate';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const h = (n: number): Date => new Date(T0 + n * 3600_000);

const occ = (over: Partial<UpstreamOccupancy> = {}): UpstreamOccupancy => ({
  environment: 'staging',
  promotionId: 'u-1',
  tag: 'v1',
  promotedAt: h(0),
  supersededAt: null,
  ...over,
});

const gate = (over: Partial<GateInput>): GateInput => ({
  now: h(1),
  upstreams: ['staging'],
  occupancies: [occ()],
  windows: [],
  breakGlass: false,
  ...over,
});

describe('environment chains', () => {
  it('lets anything allowed in when the environment has no upstreams', () => {
    expect(upstreamStanding([], [])).toEqual({ ok: true, relied: null });
  });

  it('refuses a digest never promoted into an upstream, naming the upstreams', () => {
    const s = upstreamStanding(['staging'], [occ({ environment: 'dev' })]);
    expect(s).toEqual({
      ok: false,
      upstreams: ['staging'],
      reason: 'the digest was never promoted into staging',
    });
  });

  it('refuses a digest the upstream tag no longer points to, unless the policy relaxes it', () => {
    const moved = [occ({ supersededAt: h(2) })];
    expect(upstreamStanding(['staging'], moved)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/points to another digest now/),
    });
    expect(upstreamStanding(['staging'], moved, false)).toEqual({ ok: true, relied: moved[0] });
  });

  it('relies on a current occupancy first, the longest in place among them', () => {
    const old = occ({ promotionId: 'old', promotedAt: h(-10), supersededAt: h(-5) });
    const later = occ({ promotionId: 'later', promotedAt: h(-1) });
    const earlier = occ({ promotionId: 'earlier', environment: 'qa', promotedAt: h(-3) });
    const s = upstreamStanding(['staging', 'qa'], [old, later, earlier], false);
    expect(s).toEqual({ ok: true, relied: earlier });
  });
});

describe('the gate', () => {
  it('proceeds with no soak and no freeze, naming the upstream promotion relied on', () => {
    expect(evaluateGate(gate({}))).toEqual({
      action: 'proceed',
      evidence: {
        upstream: { environment: 'staging', promotionId: 'u-1', tag: 'v1', promotedAt: h(0).toISOString() },
        soak: null,
        freeze: { overridden: false, windows: [] },
      },
    });
  });

  it('holds a promotion until the digest has soaked in the upstream, then lets it go', () => {
    expect(evaluateGate(gate({ soak: { duration: '24h' } }))).toEqual({
      action: 'wait',
      for: 'soak',
      until: h(24),
      reason: `soaking in staging since ${h(0).toISOString()} for 24h`,
    });
    expect(evaluateGate(gate({ now: h(25), soak: { duration: '24h' } }))).toMatchObject({
      action: 'proceed',
      evidence: {
        soak: { required: '24h', skipped: false, since: h(0).toISOString(), observedSeconds: 25 * 3600 },
      },
    });
  });

  it('starts the soak over when the digest was superseded upstream and promoted there again', () => {
    const first = occ({ promotionId: 'first', promotedAt: h(-30), supersededAt: h(-20) });
    const again = occ({ promotionId: 'again', promotedAt: h(-2) });
    const d = evaluateGate(gate({ now: h(0), occupancies: [first, again], soak: { duration: '24h' } }));
    expect(d).toMatchObject({ action: 'wait', for: 'soak', until: h(22) });
  });

  it('counts an earlier occupancy that lasted the whole soak, where the policy does not require the tag now', () => {
    const done = occ({ promotionId: 'done', promotedAt: h(-48), supersededAt: h(-20) });
    const d = evaluateGate(
      gate({
        now: h(0),
        occupancies: [done],
        upstream: { requireCurrent: false },
        soak: { duration: '24h' },
      }),
    );
    expect(d).toMatchObject({ action: 'proceed', evidence: { upstream: { promotionId: 'done' } } });
  });

  it('lets a rollback skip the soak, and says it did', () => {
    const d = evaluateGate(gate({ soak: { duration: '24h' }, skipSoak: true }));
    expect(d).toMatchObject({
      action: 'proceed',
      evidence: { soak: { skipped: true, observedSeconds: 3600 } },
    });
  });

  it('refuses when the upstream no longer holds the digest', () => {
    const d = evaluateGate(gate({ occupancies: [occ({ supersededAt: h(0.5) })] }));
    expect(d).toMatchObject({ action: 'refuse' });
  });

  it('lets a rollback past a moved upstream tag and the soak, but not past a freeze', () => {
    const moved = [occ({ supersededAt: h(0.5) })];
    const rollback = { occupancies: moved, soak: { duration: '24h' }, skipSoak: true, skipChain: true };
    expect(evaluateGate(gate(rollback))).toMatchObject({
      action: 'proceed',
      evidence: { upstream: { promotionId: 'u-1' }, soak: { skipped: true } },
    });
    expect(evaluateGate(gate({ ...rollback, occupancies: [] }))).toMatchObject({
      action: 'proceed',
      evidence: { upstream: null, soak: null },
    });
    const frozen = {
      ...rollback,
      windows: [{ name: 'f', kind: 'deny' as const, from: h(0).toISOString(), until: h(2).toISOString() }],
    };
    expect(evaluateGate(gate(frozen))).toMatchObject({ action: 'wait', for: 'freeze', until: h(2) });
  });

  const freeze = {
    name: 'release-freeze',
    kind: 'deny' as const,
    from: h(0).toISOString(),
    until: h(5).toISOString(),
  };

  it('holds a promotion inside a deny window until it ends, after the soak', () => {
    expect(evaluateGate(gate({ windows: [freeze] }))).toEqual({
      action: 'wait',
      for: 'freeze',
      until: h(5),
      reason: 'frozen by release-freeze',
    });
  });

  it('lets break-glass through a freeze and records the override', () => {
    expect(evaluateGate(gate({ windows: [freeze], breakGlass: true }))).toMatchObject({
      action: 'proceed',
      evidence: { freeze: { overridden: true, windows: ['release-freeze'] } },
    });
  });

  it('does not let break-glass skip a soak', () => {
    expect(evaluateGate(gate({ soak: { duration: '24h' }, breakGlass: true }))).toMatchObject({
      action: 'wait',
      for: 'soak',
    });
  });
});
