import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALPINE_SCHEME, compareApkVersions, isValidApkVersion } from './apk';

/*
 * apk-version.data is apk-tools' own test/version.data, kept byte for byte (alpinelinux/apk-tools at
 * commit fd8f39f1d54c3b56d16a494898e5a753e2c71715, 12548 bytes). Its format has no comment lines, so
 * its origin is recorded here. Each line is `a op b`, optionally followed by a `#` remark.
 */
const REFERENCE = readFileSync(join(__dirname, 'apk-version.data'), 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => {
    const [a, op, b] = line.split(/\s+/);
    return { a, op, b };
  });

const EXPECTED_SIGN: Record<string, number> = { '<': -1, '=': 0, '>': 1 };

describe('apk-tools version comparison', () => {
  it('reads the whole upstream fixture', () => {
    expect(REFERENCE).toHaveLength(733);
    expect(REFERENCE.every(({ op }) => op in EXPECTED_SIGN)).toBe(true);
  });

  it('agrees with every line of apk-tools test/version.data, in both directions', () => {
    const disagreements = REFERENCE.filter(({ a, op, b }) => {
      const expected = EXPECTED_SIGN[op];
      return (
        Math.sign(compareApkVersions(a, b)) !== expected || Math.sign(compareApkVersions(b, a)) !== -expected
      );
    });
    expect(disagreements).toEqual([]);
  });

  it.each([
    // Suffix ranks: _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p
    ['1.0_alpha', '1.0_beta'],
    ['1.0_beta', '1.0_pre'],
    ['1.0_pre', '1.0_rc'],
    ['1.0_rc', '1.0'],
    ['1.0', '1.0_cvs'],
    ['1.0_cvs', '1.0_svn'],
    ['1.0_svn', '1.0_git'],
    ['1.0_git', '1.0_hg'],
    ['1.0_hg', '1.0_p'],
    ['1.0_rc1', '1.0_rc2'],
    ['1.0_rc9', '1.0_rc10'],
    ['1.0', '1.0_p1'],
    // Revisions
    ['1.0-r0', '1.0-r1'],
    ['1.0-r9', '1.0-r10'],
    ['1.0', '1.0-r1'],
    ['1.0', '1.0-r0'], // any revision, even -r0, outranks none
    ['1.0_rc1-r5', '1.0-r0'],
    // Letters come after the number they follow and before the next component
    ['1.0', '1.0a'],
    ['1.0a', '1.0b'],
    ['1.0z', '1.0.1'],
    // ... and numbers after a letter order like further components (openssh's 6.6.2p1)
    ['6.6.2-r0', '6.6.2p1-r0'],
    ['6.6.2p1-r0', '6.6.2p1-r1'],
    ['6.6.2p1-r0', '6.6.2p2-r0'],
    ['6.6.2p1-r0', '6.6.2p10-r0'],
    ['6.6.2p1-r0', '6.6.3-r0'],
    ['6.6.2p1-r0', '6.6.2q-r0'],
    // A component with a leading zero compares as a decimal fraction
    ['1.05', '1.1'],
    ['1.001', '1.01'],
    ['8.2.0', '8.2.001'],
    // Long numbers (timestamps) compare numerically
    ['1_git20191002222144', '1_git20210530193627'],
    ['9999999999999999999', '10000000000000000000'],
  ])('%s < %s', (lower, higher) => {
    expect(compareApkVersions(lower, higher)).toBe(-1);
    expect(compareApkVersions(higher, lower)).toBe(1);
  });

  it.each([
    ['1.0', '1.0'],
    ['01.0', '1.0'],
    ['1.0~abc123', '1.0'],
    ['1.0~abc123-r1', '1.0~def456-r1'],
    ['1.0_git20240101~abc123', '1.0_git20240101'],
  ])('%s == %s (a ~hash does not order)', (a, b) => {
    expect(compareApkVersions(a, b)).toBe(0);
    expect(compareApkVersions(b, a)).toBe(0);
  });

  it('still orders the revision after a hash', () => {
    expect(compareApkVersions('1.0~abc123-r1', '1.0~abc123-r2')).toBe(-1);
  });

  // Validity rows of apk-tools' newer test/unit/version.data (the apk 3 tokenizer this port follows).
  it.each([
    '1.2',
    '0.1_pre2',
    '0.1_pre2~1234abcd',
    '0.1_p1_pre2',
    '0.1_alpha1_pre2',
    '0.1_git20240101_pre1',
    '2.39.0-r0',
    '6.5_p20250503-r0',
    '1.0a-r1',
    // apk-tools 2 and OSV: components after a letter (apk-tools 3 refuses these two rows)
    '6.6.2p1-r0',
    '0.1a1',
    '0.1a.1',
  ])('accepts %p', (version) => {
    expect(isValidApkVersion(version)).toBe(true);
    expect(ALPINE_SCHEME.valid(version)).toBe(true);
  });

  it.each([
    '',
    '0.1bc',
    '0.1bc1',
    '0.1_pre2~',
    '0.1_pre2~1234xbcd',
    '0.1_pre2~1234abcd_pre1',
    '0.1_pre2-r1~1234xbcd',
    '0.1_foobar',
    '0.1_foobar1',
    '0.1-pre1.1',
    '0.1-r',
    '0.1-r2_pre1',
    '0.1-r2_p3_pre1',
    '0.1-r2-r3',
    '0.1-r2.1',
    '.1',
    'a',
    '_pre1',
    '-r1',
    '0.1_',
    '0.1_-r0',
    '0.1__alpha',
    '0.1_1_alpha',
    '1.0A',
    'v1.0',
    '1.0 ',
  ])('refuses %p', (version) => {
    expect(isValidApkVersion(version)).toBe(false);
  });
});
