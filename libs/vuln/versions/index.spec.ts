import { schemeForEcosystem, SEMVER_SCHEME, type VersionScheme } from './index';

function scheme(ecosystem: string): VersionScheme {
  const found = schemeForEcosystem(ecosystem);
  if (found === undefined) throw new Error(`no scheme for ${ecosystem}`);
  return found;
}

/** Sorting shuffled input back into the listed order checks every adjacent pair at once. */
function expectSortsTo(versionScheme: VersionScheme, ordered: string[]): void {
  const shuffled = [...ordered].reverse();
  shuffled.push(shuffled.shift() as string);
  expect(shuffled.sort(versionScheme.compare)).toEqual(ordered);
}

describe('schemeForEcosystem', () => {
  it.each([
    ['npm', 'npm'],
    ['PyPI', 'PyPI'],
    ['Maven', 'Maven'],
    ['Go', 'Go'],
    ['crates.io', 'crates.io'],
    ['Debian', 'Debian'],
    ['Debian:12', 'Debian'],
    ['Debian:11', 'Debian'],
    ['Ubuntu:22.04:LTS', 'Debian'],
    ['Alpine', 'Alpine'],
    ['Alpine:v3.20', 'Alpine'],
    ['Wolfi', 'Alpine'],
  ])('%s → the %s scheme', (ecosystem, name) => {
    expect(schemeForEcosystem(ecosystem)?.name).toBe(name);
  });

  it.each(['RubyGems', 'NuGet', 'Packagist', 'debian', 'PYPI', '', ':12'])(
    'has no scheme for %p',
    (ecosystem) => {
      expect(schemeForEcosystem(ecosystem)).toBeUndefined();
    },
  );
});

describe('semver schemes', () => {
  it('orders SEMVER ranges by semver 2.0, tolerating a leading v', () => {
    expectSortsTo(SEMVER_SCHEME, [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta.2',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
    ]);
    expect(SEMVER_SCHEME.compare('v1.2.3', '1.2.3')).toBe(0);
    expect(SEMVER_SCHEME.compare('1.2.3+build.5', '1.2.3')).toBe(0);
    expect(SEMVER_SCHEME.compare('1.2.3-10', '1.2.3-9')).toBe(1);
  });

  it('orders npm versions', () => {
    expectSortsTo(scheme('npm'), ['0.9.9', '1.0.0-beta.1', '1.0.0', '1.2.0', '1.10.0', '2.0.0']);
    expect(scheme('npm').valid('4.17.21')).toBe(true);
    expect(scheme('npm').valid('1.0')).toBe(false);
    expect(scheme('npm').valid(' 1.0.0')).toBe(false);
  });

  it('orders crates.io versions', () => {
    expectSortsTo(scheme('crates.io'), ['0.1.0', '0.1.10', '0.2.0-pre.1', '0.2.0', '1.0.0']);
    expect(scheme('crates.io').valid('1.0.0+wasi-snapshot-preview1')).toBe(true);
  });

  it('orders Go versions with or without v, pseudo-versions and +incompatible', () => {
    const go = scheme('Go');
    expectSortsTo(go, [
      'v0.0.0-20190101000000-000000000000',
      'v0.0.0-20200101000000-abcdef123456',
      'v0.1.0',
      'v1.2.3',
      // a pseudo-version based on v1.2.3 sorts after it and before v1.2.4
      'v1.2.4-0.20210101000000-abcdef123456',
      'v1.2.4',
      'v2.0.0+incompatible',
      'v2.1.0',
    ]);
    // OSV Go entries omit the v that module versions and purls carry.
    expect(go.compare('1.2.3', 'v1.2.3')).toBe(0);
    expect(go.compare('v1.2.4-0.20210101000000-abcdef123456', '1.2.4')).toBe(-1);
    expect(go.compare('v2.0.0+incompatible', '2.0.0')).toBe(0);
    expect(go.valid('v1.2.3')).toBe(true);
    expect(go.valid('vv1.2.3')).toBe(false);
    expect(go.valid('v1.2')).toBe(false);
  });
});

describe('PyPI scheme', () => {
  const pypi = scheme('PyPI');

  it('orders by PEP 440', () => {
    expectSortsTo(pypi, ['1.0.dev1', '1.0a1', '1.0b2', '1.0rc1', '1.0', '1.0.post1', '1.1', '2.0', '1!0.1']);
  });

  it.each([
    ['1.0.post1', '1.0', 1],
    ['1.0rc1', '1.0', -1],
    ['1!0.1', '2.0', 1],
    ['1.0', '1.0.0', 0],
    ['1.0+local.1', '1.0', 1],
    ['2.0.0a1', '2.0.0', -1],
  ])('%s vs %s → %d', (a, b, expected) => {
    expect(Math.sign(pypi.compare(a, b))).toBe(expected);
  });

  it('knows valid versions', () => {
    expect(pypi.valid('1.0.post1')).toBe(true);
    expect(pypi.valid('2024.1')).toBe(true);
    expect(pypi.valid('not-a-version')).toBe(false);
  });
});

describe('Debian and Alpine through the registry', () => {
  it('orders Debian versions', () => {
    expectSortsTo(scheme('Debian:12'), ['1.0~rc1-1', '1.0-1', '1.0-1+deb12u1', '1:0.9-1']);
  });

  it('orders Alpine versions', () => {
    expectSortsTo(scheme('Alpine:v3.20'), [
      '1.2.3_rc1-r0',
      '1.2.3-r0',
      '1.2.3-r1',
      '1.2.3_p1-r0',
      '1.2.4-r0',
    ]);
  });
});
