import { compare, valid } from '@renovatebot/pep440';
import { comparePep440Versions, PYPI_SCHEME } from './pypi';

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
    expect(candidates.filter((v) => PYPI_SCHEME.valid(v) !== (valid(v) !== null))).toEqual([]);
  });

  it('refuses to compare what is not a version', () => {
    expect(() => comparePep440Versions('not-a-version', '1.0')).toThrow('not a PEP 440 version');
  });
});
