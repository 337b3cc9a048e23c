import { canonicalMavenVersion, compareMavenVersions, isValidMavenVersion, MAVEN_SCHEME } from './maven';

/*
 * Cases transcribed from Apache Maven 3.8.6's ComparableVersionTest.java (apache/maven,
 * maven-artifact/src/test/java/org/apache/maven/artifact/versioning/), the release OSV's Maven
 * version-order fixtures are generated with; where Maven 3.9 and 4 changed the order (MNG-6964,
 * MNG-7644, MNG-7714), the cases say what Maven 3.8.6 and OSV say. Java's newComparable() also
 * checks that the canonical form is stable when parsed again, and checkVersionsEqual() checks
 * equals(); canonical equality stands in for equals() here.
 */

const VERSIONS_QUALIFIER = [
  '1-alpha2snapshot',
  '1-alpha2',
  '1-alpha-123',
  '1-beta-2',
  '1-beta123',
  '1-m2',
  '1-m11',
  '1-rc',
  '1-cr2',
  '1-rc123',
  '1-SNAPSHOT',
  '1',
  '1-sp',
  '1-sp2',
  '1-sp123',
  '1-abc',
  '1-def',
  '1-pom-1',
  '1-1-snapshot',
  '1-1',
  '1-2',
  '1-123',
];

const VERSIONS_NUMBER = [
  '2.0',
  '2-1',
  '2.0.a',
  '2.0.0.a',
  '2.0.2',
  '2.0.123',
  '2.1.0',
  '2.1-a',
  '2.1b',
  '2.1-c',
  '2.1-1',
  '2.1.0.1',
  '2.2',
  '2.123',
  '11.a2',
  '11.a11',
  '11.b2',
  '11.b11',
  '11.m2',
  '11.m11',
  '11',
  '11.a',
  '11b',
  '11c',
  '11m',
];

const EQUAL = [
  ['1', '1'],
  ['1', '1.0'],
  ['1', '1.0.0'],
  ['1.0', '1.0.0'],
  ['1', '1-0'],
  ['1', '1.0-0'],
  ['1.0', '1.0-0'],
  // no separator between number and character
  ['1a', '1-a'],
  ['1a', '1.0-a'],
  ['1a', '1.0.0-a'],
  ['1.0a', '1-a'],
  ['1.0.0a', '1-a'],
  ['1x', '1-x'],
  ['1x', '1.0-x'],
  ['1x', '1.0.0-x'],
  ['1.0x', '1-x'],
  ['1.0.0x', '1-x'],
  ['1cr', '1rc'],
  // special "aliases" a, b and m for alpha, beta and milestone
  ['1a1', '1-alpha-1'],
  ['1b2', '1-beta-2'],
  ['1m3', '1-milestone-3'],
  // case insensitive
  ['1X', '1x'],
  ['1A', '1a'],
  ['1B', '1b'],
  ['1M', '1m'],
  ['1Cr', '1Rc'],
  ['1cR', '1rC'],
  ['1m3', '1Milestone3'],
  ['1m3', '1MileStone3'],
  ['1m3', '1MILESTONE3'],
  // testLocaleIndependent
  ['1-abcdefghijklmnopqrstuvwxyz', '1-ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
];

/** Maven 3.8's aliases make the release qualifiers the empty one: equal, not only the same order. */
const RELEASE_ALIASES = [
  ['1ga', '1'],
  ['1release', '1'],
  ['1final', '1'],
  ['1Ga', '1'],
  ['1GA', '1'],
  ['1RELEASE', '1'],
  ['1release', '1'],
  ['1RELeaSE', '1'],
  ['1Final', '1'],
  ['1FinaL', '1'],
  ['1FINAL', '1'],
];

/** Each pair is [lower, higher]. */
const ORDERED = [
  // testVersionComparing
  ['1', '2'],
  ['1.5', '2'],
  ['1', '2.5'],
  ['1.0', '1.1'],
  ['1.1', '1.2'],
  ['1.0.0', '1.1'],
  ['1.0.1', '1.1'],
  ['1.1', '1.2.0'],
  ['1.0-alpha-1', '1.0'],
  ['1.0-alpha-1', '1.0-alpha-2'],
  ['1.0-alpha-1', '1.0-beta-1'],
  ['1.0-beta-1', '1.0-SNAPSHOT'],
  ['1.0-SNAPSHOT', '1.0'],
  ['1.0-alpha-1-SNAPSHOT', '1.0-alpha-1'],
  ['1.0', '1.0-1'],
  ['1.0-1', '1.0-2'],
  ['1.0.0', '1.0-1'],
  ['2.0-1', '2.0.1'],
  ['2.0.1-klm', '2.0.1-lmn'],
  ['2.0.1', '2.0.1-xyz'],
  ['2.0.1', '2.0.1-123'],
  ['2.0.1-xyz', '2.0.1-123'],
  // testLeadingZeroes
  ['0.7', '2'],
  ['0.2', '1.0.7'],
  // testMng5568: transitivity with the unusual 6.1H.5-beta
  ['6.1.0rc3', '6.1.0'],
  ['6.1.0rc3', '6.1H.5-beta'],
  ['6.1.0', '6.1H.5-beta'],
  // testMng6572: numbers of 9, 10, 15 and 20 digits (int, long and BigInteger items in Java)
  ['20190126.230843', '1234567890.12345'],
  ['1234567890.12345', '123456789012345.1H.5-beta'],
  ['20190126.230843', '123456789012345.1H.5-beta'],
  ['123456789012345.1H.5-beta', '12345678901234567890.1H.5-beta'],
  ['1234567890.12345', '12345678901234567890.1H.5-beta'],
  ['20190126.230843', '12345678901234567890.1H.5-beta'],
  // Maven 3.8 (and OSV): a sub-list against nothing is judged by its first item only (MNG-6964
  // changed that in 3.9), so `1-0.alpha` ties with 1 yet still orders below `1-0.beta`.
  ['1-0.alpha', '1-0.beta'],
  // Maven 3.8 (and OSV): an unknown qualifier outranks sp, with or without final (MNG-7714 in 3.9)
  ['1.0-sp1-redhat', '1.0.final-redhat'],
  ['1.0-sp-1-redhat', '1.0.final-redhat'],
  ['1.0-sp.1-redhat', '1.0.final-redhat'],
  // testCompareDigitToLetter, testDigitGreaterThanNonAscii, testNonAsciiDigits, testLexicographicOrder
  ['J', '7'],
  ['c', '7'],
  ['é', '1'],
  ['\uD835\uDFE4', '1'], // MATHEMATICAL SANS-SERIF DIGIT TWO is not a digit
  ['\u0668', '1'], // ARABIC-INDIC DIGIT EIGHT is not a digit either
  ['\u0668', '9'],
  ['aardvark', 'zebra'],
  ['zebra', 'ζέβρα'],
];

/** testLexicographicASCIISortOrder, testCompareLowerCaseToUpperCase(Non)ASCII. */
const CASE_INSENSITIVE = [
  ['1.0.0-alpha1', '1.0.0-ALPHA1'],
  ['1.a', '1.A'],
  ['1.é', '1.É'],
];

const LEADING_ZEROES = Array.from({ length: 19 }, (_, i) => '0'.repeat(18 - i) + '1');
const ZEROES = Array.from({ length: 19 }, (_, i) => '0'.repeat(19 - i));

/** newComparable(): the canonical form must parse back to itself. */
function expectStableCanonical(version: string): void {
  const canonical = canonicalMavenVersion(version);
  expect(canonicalMavenVersion(canonical)).toBe(canonical);
}

function expectOrdered(lower: string, higher: string): void {
  expectStableCanonical(lower);
  expectStableCanonical(higher);
  expect(compareMavenVersions(lower, higher)).toBeLessThan(0);
  expect(compareMavenVersions(higher, lower)).toBeGreaterThan(0);
}

function expectEqual(a: string, b: string): void {
  expectStableCanonical(a);
  expectStableCanonical(b);
  expect(compareMavenVersions(a, b)).toBe(0);
  expect(compareMavenVersions(b, a)).toBe(0);
  expect(canonicalMavenVersion(a)).toBe(canonicalMavenVersion(b));
}

describe('Maven ComparableVersion port', () => {
  it.each([
    ['VERSIONS_QUALIFIER', VERSIONS_QUALIFIER],
    ['VERSIONS_NUMBER', VERSIONS_NUMBER],
  ])('orders every pair of %s as listed', (_name, versions) => {
    for (let i = 0; i < versions.length; i++) {
      for (let j = i + 1; j < versions.length; j++) expectOrdered(versions[i], versions[j]);
    }
  });

  it.each(EQUAL)('%s == %s', (a, b) => expectEqual(a, b));

  it.each(RELEASE_ALIASES)('%s == %s (release alias)', (a, b) => expectEqual(a, b));

  it.each([
    ['1-0.alpha', '1'],
    ['1-0.beta', '1'],
  ])('%s ties with %s as Maven 3.8 orders them', (a, b) => {
    expect(compareMavenVersions(a, b)).toBe(0);
    expect(compareMavenVersions(b, a)).toBe(0);
  });

  it.each(ORDERED)('%s < %s', (lower, higher) => expectOrdered(lower, higher));

  it.each(CASE_INSENSITIVE)('%s == %s regardless of case', (a, b) => {
    expect(compareMavenVersions(a, b)).toBe(0);
    expect(compareMavenVersions(b, a)).toBe(0);
  });

  it.each([
    ['leading zeroes', LEADING_ZEROES],
    ['zeroes', ZEROES],
  ])('treats all %s of 1 to 19 digits as one version (MNG-6572)', (_name, versions) => {
    for (let i = 0; i < versions.length; i++) {
      for (let j = i; j < versions.length; j++) expectEqual(versions[i], versions[j]);
    }
  });

  it('orders as OSV does where Maven 3.9 and 4 differ (OSV Maven fixtures)', () => {
    // Lines of OSV's maven-versions-generated.txt that a Maven 4 order gets wrong.
    expectOrdered('3.2.0rc2', '3.2.0-rc.1');
    expectOrdered('7.4.3.20', '7.4.3.20-ga20');
    // MNG-7644 is not in Maven 3.8: `1.0.0.X1` is not nested like `-X1`, and its zeros stay.
    for (const x of ['abc', 'alpha', 'a', 'beta', 'b', 'def', 'milestone', 'm', 'RC']) {
      expectOrdered(`1.0.0-${x}2`, `1.0.0.${x}1`);
    }
    // MNG-7559 is not in Maven 3.8: `rc-1` is a qualifier then a sub-list, `rc1` likewise.
    expectEqual('1-rc-1', '1-rc1');
  });

  it('prints canonical forms like Maven 3.8', () => {
    for (const version of ['1.0-alpha', '0.x', '0-x', '0.rc', '0-1']) expectStableCanonical(version);
    expect(canonicalMavenVersion('0.x')).toBe('0.x');
    expect(canonicalMavenVersion('0.2')).toBe('0.2');
    expect(canonicalMavenVersion('1.0.0-RC1')).toBe('1-rc-1');
  });
});

describe('MAVEN_SCHEME', () => {
  it('sorts a realistic release train', () => {
    const sorted = [
      '2.17.0',
      '2.15.0-rc1',
      '2.15.0',
      '2.14.2',
      '2.15.0-SNAPSHOT',
      '2.15.0.Final',
      '2.15.0-beta',
      '2.14.2.1',
    ].sort(MAVEN_SCHEME.compare);
    expect(sorted).toEqual([
      '2.14.2',
      '2.14.2.1',
      '2.15.0-beta',
      '2.15.0-rc1',
      '2.15.0-SNAPSHOT',
      '2.15.0',
      '2.15.0.Final',
      '2.17.0',
    ]);
    expect(MAVEN_SCHEME.compare('2.15.0', '2.15.0.Final')).toBe(0);
  });

  it.each(['', ' ', '1.0 ', '1\t0', '1\u00070'])('refuses %p', (version) => {
    expect(isValidMavenVersion(version)).toBe(false);
  });

  it.each(['1', '1.0-SNAPSHOT', '2.15.0.Final', '5.3.27.RELEASE', '1.0.0-M1'])('accepts %p', (version) => {
    expect(MAVEN_SCHEME.valid(version)).toBe(true);
  });
});
