import { affectedVerdict } from './affected';
import { type OsvAffected, type OsvEvent } from './osv';

const npm = (events: OsvEvent[], versions?: string[]): OsvAffected => ({
  package: { ecosystem: 'npm', name: 'lodash' },
  ranges: [{ type: 'SEMVER', events }],
  ...(versions ? { versions } : {}),
});

describe(affectedVerdict.name, () => {
  const range = npm([{ introduced: '0' }, { fixed: '4.17.21' }]);
  it.each([
    ['4.17.20', true],
    ['0.0.1', true],
    ['4.17.21', false],
    ['5.0.0', false],
    ['4.17.21-rc.1', true],
  ])('introduced 0, fixed 4.17.21: %s affected=%s', (v, affected) => {
    expect(affectedVerdict(range, v).affected).toBe(affected);
  });

  it('gives the fixed version of the range that matched', () => {
    expect(affectedVerdict(range, '4.0.0')).toEqual({ affected: true, fixedIn: '4.17.21' });
  });

  it('walks several introduced/fixed pairs in version order, whatever order they are listed in', () => {
    const twoBranches = npm([
      { fixed: '2.3.1' },
      { introduced: '2.0.0' },
      { fixed: '1.9.5' },
      { introduced: '1.0.0' },
    ]);
    expect(affectedVerdict(twoBranches, '0.9.0').affected).toBe(false);
    expect(affectedVerdict(twoBranches, '1.5.0')).toEqual({ affected: true, fixedIn: '1.9.5' });
    expect(affectedVerdict(twoBranches, '1.9.5').affected).toBe(false);
    expect(affectedVerdict(twoBranches, '2.2.0')).toEqual({ affected: true, fixedIn: '2.3.1' });
    expect(affectedVerdict(twoBranches, '2.3.1').affected).toBe(false);
  });

  it('last_affected includes that version and has no fix', () => {
    const r = npm([{ introduced: '1.0.0' }, { last_affected: '1.4.0' }]);
    expect(affectedVerdict(r, '1.4.0')).toEqual({ affected: true, fixedIn: null });
    expect(affectedVerdict(r, '1.4.1').affected).toBe(false);
  });

  it('an open range (introduced only) has no fix', () => {
    expect(affectedVerdict(npm([{ introduced: '3.0.0' }]), '9.9.9')).toEqual({
      affected: true,
      fixedIn: null,
    });
  });

  it('matches listed versions exactly', () => {
    const listed: OsvAffected = { package: { ecosystem: 'PyPI', name: 'x' }, versions: ['1.0', '1.1'] };
    expect(affectedVerdict(listed, '1.1').affected).toBe(true);
    expect(affectedVerdict(listed, '1.2').affected).toBe(false);
  });

  it('orders ECOSYSTEM ranges by the ecosystem: PyPI pre-releases and post-releases', () => {
    const py: OsvAffected = {
      package: { ecosystem: 'PyPI', name: 'django' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '4.0' }, { fixed: '4.2.post1' }] }],
    };
    expect(affectedVerdict(py, '4.2').affected).toBe(true);
    expect(affectedVerdict(py, '4.2rc1').affected).toBe(true);
    expect(affectedVerdict(py, '4.2.post1').affected).toBe(false);
    expect(affectedVerdict(py, '4.0a1').affected).toBe(false);
  });

  it('orders Maven, Debian and Alpine versions by their own rules', () => {
    const maven: OsvAffected = {
      package: { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] }],
    };
    expect(affectedVerdict(maven, '2.14.1').affected).toBe(true);
    expect(affectedVerdict(maven, '2.0-alpha1').affected).toBe(false);
    expect(affectedVerdict(maven, '2.15.0').affected).toBe(false);
    const deb: OsvAffected = {
      package: { ecosystem: 'Debian:12', name: 'openssl' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u1' }] }],
    };
    expect(affectedVerdict(deb, '3.0.11-1~deb12u0').affected).toBe(true);
    expect(affectedVerdict(deb, '3.0.11-1').affected).toBe(false);
    const apk: OsvAffected = {
      package: { ecosystem: 'Alpine:v3.18', name: 'busybox' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.36.1-r2' }] }],
    };
    expect(affectedVerdict(apk, '1.36.1-r1').affected).toBe(true);
    expect(affectedVerdict(apk, '1.36.1-r10').affected).toBe(false);
  });

  it('Go: OSV leaves out the v that module versions carry', () => {
    const go: OsvAffected = {
      package: { ecosystem: 'Go', name: 'golang.org/x/net' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.17.0' }] }],
    };
    expect(affectedVerdict(go, 'v0.16.0').affected).toBe(true);
    expect(affectedVerdict(go, 'v0.0.0-20220722155237-a158d28d115b').affected).toBe(true);
    expect(affectedVerdict(go, 'v0.17.0').affected).toBe(false);
  });

  it('gives verdicts, not "unknown", where OSV orders what newer tools refuse or reorder', () => {
    const of = (ecosystem: string, name: string, events: OsvEvent[]): OsvAffected => ({
      package: { ecosystem, name },
      ranges: [{ type: 'ECOSYSTEM', events }],
    });
    // Alpine's openssh 6.6.2p1-r0 (apk-tools 2 and OSV accept a number after a letter).
    const openssh = of('Alpine:v3.20', 'openssh', [{ introduced: '0' }, { fixed: '6.6.2p1-r0' }]);
    expect(affectedVerdict(openssh, '6.6.2-r0')).toEqual({ affected: true, fixedIn: '6.6.2p1-r0' });
    expect(affectedVerdict(openssh, '6.6.2p1-r0')).toEqual({ affected: false });
    expect(affectedVerdict(openssh, '6.6.2p2-r0')).toEqual({ affected: false });
    // A legacy PyPI version, ordered as OSV's LegacyVersion does (before every PEP 440 version).
    const legacy = of('PyPI', 'old', [{ introduced: '0' }, { fixed: '2.0.1rc2-git' }]);
    expect(affectedVerdict(legacy, '1.0-final')).toEqual({ affected: true, fixedIn: '2.0.1rc2-git' });
    expect(affectedVerdict(legacy, '2.0.1')).toEqual({ affected: false });
    // Maven as 3.8.6 (and OSV) orders it: 3.2.0rc2 < 3.2.0-rc.1, 7.4.3.20 < 7.4.3.20-ga20.
    const maven = of('Maven', 'g:a', [{ introduced: '0' }, { fixed: '3.2.0-rc.1' }]);
    expect(affectedVerdict(maven, '3.2.0rc2')).toEqual({ affected: true, fixedIn: '3.2.0-rc.1' });
    const ga = of('Maven', 'g:b', [{ introduced: '0' }, { fixed: '7.4.3.20-ga20' }]);
    expect(affectedVerdict(ga, '7.4.3.20')).toEqual({ affected: true, fixedIn: '7.4.3.20-ga20' });
  });

  it('says unknown, not "not affected", when versions cannot be compared', () => {
    expect(affectedVerdict(range, 'not-a-version').affected).toBe('unknown');
    expect(affectedVerdict(npm([{ introduced: '0' }, { fixed: 'garbage' }]), '1.0.0').affected).toBe(
      'unknown',
    );
  });

  it('limit gates the whole range (OSV BeforeLimits), and * means no limit', () => {
    const r = npm([{ introduced: '1.0.0' }, { limit: '2.0.0' }, { introduced: '3.0.0' }]);
    expect(affectedVerdict(r, '1.5.0').affected).toBe(true);
    expect(affectedVerdict(r, '3.5.0').affected).toBe(false);
    expect(affectedVerdict(npm([{ introduced: '0' }, { limit: '*' }]), '9.0.0').affected).toBe(true);
  });

  it('ignores GIT ranges and unknown ecosystems', () => {
    const git: OsvAffected = {
      package: { ecosystem: 'npm', name: 'x' },
      ranges: [{ type: 'GIT', events: [{ introduced: 'abc' }] }],
    };
    expect(affectedVerdict(git, '1.0.0').affected).toBe(false);
  });
});
