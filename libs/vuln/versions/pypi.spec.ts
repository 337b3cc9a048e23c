import { compare, valid } from '@renovatebot/pep440';
import { comparePep440Versions, isPep440Version, PYPI_SCHEME } from './pypi';

/** PEP 440 corner cases: every segment, its spellings, implicit numbers, locals and epochs. */
const VERSIONS = [
  '0',
  '0.0',
  '0.1',
  '1',
  '1.0',
  '1.0.0',
  '1.0.0.0',
  '01.0',
  '1.0.1',
  '1.1',
  '1.10',
  '1.2',
  '2.0',
  '2024.1',
  'v1.0',
  'V1.0',
  '1.0.dev0',
  '1.0.dev1',
  '1.0-dev2',
  '1.0dev',
  '1.0a0',
  '1.0a1',
  '1.0a1.dev1',
  '1.0a1.post1',
  '1.0a1.post1.dev1',
  '1.0alpha2',
  '1.0-a3',
  '1.0.a4',
  '1.0a',
  '1.0b1',
  '1.0beta2',
  '1.0c1',
  '1.0pre1',
  '1.0preview1',
  '1.0rc1',
  '1.0RC2',
  '1.0rc1.dev1',
  '1.0rc1.post1',
  '1.0.post0',
  '1.0.post1',
  '1.0-1',
  '1.0-2',
  '1.0.rev3',
  '1.0r4',
  '1.0post',
  '1.0.post1.dev0',
  '1.0.post1.dev1',
  '1.0.post2',
  '1.0+local',
  '1.0+local.1',
  '1.0+local.2',
  '1.0+1',
  '1.0+1.abc',
  '1.0+abc.1',
  '1.0+abc',
  '1.0+ABC',
  '1.0+1-2',
  '1.0+1_2.3',
  '1.0a1+local',
  '1.0.post1+local',
  '1.0.dev1+local',
  '0!1.0',
  '1!0.1',
  '1!1.0',
  '2!0.0.1',
  '1!1.0rc1',
  '10!0',
];

describe('PyPI scheme', () => {
  it('agrees with @renovatebot/pep440 compare() on every pair', () => {
    const disagreements: string[] = [];
    for (const a of VERSIONS) {
      for (const b of VERSIONS) {
        const expected = Math.sign(compare(a, b));
        if (Math.sign(comparePep440Versions(a, b)) !== expected) disagreements.push(`${a} vs ${b}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees with @renovatebot/pep440 valid()', () => {
    const candidates = [
      ...VERSIONS,
      '',
      ' 1.0',
      '1.0 ',
      'not-a-version',
      '1.0.',
      '1..0',
      '1.0+',
      '1.0+a..b',
      '1!',
      '!1',
    ];
    expect(candidates.filter((v) => isPep440Version(v) !== (valid(v) !== null))).toEqual([]);
  });

  it('refuses to compare what is not a version', () => {
    expect(PYPI_SCHEME.valid('not-a-version')).toBe(false);
    expect(PYPI_SCHEME.valid('')).toBe(false);
    expect(PYPI_SCHEME.valid('1.0 beta')).toBe(false);
    expect(() => comparePep440Versions('not-a-version', '1.0')).toThrow('not a PyPI version');
  });

  /*
   * Legacy versions as packaging < 22 (LegacyVersion) and OSV order them: every legacy version before
   * every PEP 440 one, legacy ones by _legacy_cmpkey. Expected orders computed with packaging 21.3.
   */
  it('orders legacy versions OSV still orders instead of refusing them', () => {
    for (const version of ['2.0.1rc2-git', '1.0-final', '1.0-SNAPSHOT', '2.0.1-rc2-git', '1.0.0.x']) {
      expect(PYPI_SCHEME.valid(version)).toBe(true);
      expect(isPep440Version(version)).toBe(false);
    }
    const sorted = [
      '1.0-final',
      '2.0.1rc2-git',
      '3.0',
      '0.3.4-dev-r12',
      '1.0.0.x',
      '0.1',
      '1.0-SNAPSHOT',
      '0.3.4-r12',
    ].sort(PYPI_SCHEME.compare);
    expect(sorted).toEqual([
      '0.3.4-dev-r12',
      '1.0-final',
      '1.0-SNAPSHOT',
      '1.0.0.x',
      '2.0.1rc2-git',
      '0.1',
      '0.3.4-r12', // a PEP 440 post-release
      '3.0',
    ]);
    // rc is read as c and drops the "-" before it, so 2.0.1rc2-git == 2.0.1-rc2-git.
    expect(PYPI_SCHEME.compare('2.0.1rc2-git', '2.0.1-rc2-git')).toBe(0);
    expect(PYPI_SCHEME.compare('2.0.1rc2-git', '2.0.1rc3')).toBeLessThan(0);
    expect(PYPI_SCHEME.compare('2.0.1rc2-git', '2.0.1rc2')).toBeLessThan(0);
  });
});
