import { identityOfPurl, releaseApplies } from './package-identity';
import { readSbom } from './sbom-packages';

describe(identityOfPurl.name, () => {
  it.each([
    ['pkg:npm/%40babel/core@7.0.0', { ecosystem: 'npm', name: '@babel/core', release: '' }, '7.0.0'],
    [
      'pkg:pypi/Django_Rest.Framework@3.0',
      { ecosystem: 'PyPI', name: 'django-rest-framework', release: '' },
      '3.0',
    ],
    [
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', release: '' },
      '2.14.1',
    ],
    [
      'pkg:golang/golang.org/x/net@v0.16.0',
      { ecosystem: 'Go', name: 'golang.org/x/net', release: '' },
      'v0.16.0',
    ],
    ['pkg:cargo/smallvec@1.6.0', { ecosystem: 'crates.io', name: 'smallvec', release: '' }, '1.6.0'],
    [
      'pkg:deb/debian/libssl3@3.0.9-1?distro=debian-12.1&upstream=openssl',
      { ecosystem: 'Debian', name: 'openssl', release: '12' },
      '3.0.9-1',
    ],
    [
      'pkg:apk/alpine/busybox-binsh@1.36.1-r1?distro=alpine-3.18.4&upstream=busybox',
      { ecosystem: 'Alpine', name: 'busybox', release: 'v3.18' },
      '1.36.1-r1',
    ],
  ])('%s', (purl, identity, version) => {
    expect(identityOfPurl(purl)).toEqual({ identity, version });
  });

  it.each([
    [
      'pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?distro=ubuntu-22.04&upstream=openssl',
      { ecosystem: 'Ubuntu', name: 'openssl', release: '22.04' },
    ],
    ['pkg:apk/wolfi/glibc@2.38-r5?distro=wolfi-20230201', { ecosystem: 'Wolfi', name: 'glibc', release: '' }],
    ['pkg:apk/chainguard/openssl@3.1.4-r0', { ecosystem: 'Chainguard', name: 'openssl', release: '' }],
    ['pkg:deb/libc6@2.36-9', { ecosystem: 'Debian', name: 'libc6', release: '' }],
  ])('distributions by namespace: %s', (purl, identity) => {
    expect(identityOfPurl(purl).identity).toEqual(identity);
  });

  it('Ubuntu advisories name the release among other parts', () => {
    expect(releaseApplies('22.04', '22.04:LTS')).toBe(true);
    expect(releaseApplies('18.04', 'Pro:18.04:LTS')).toBe(true);
    expect(releaseApplies('22.04', '20.04:LTS')).toBe(false);
    expect(releaseApplies('12', '11')).toBe(false);
    expect(releaseApplies('', '12')).toBe(true);
  });

  it('has no identity for types without advisories here, and throws on a malformed purl', () => {
    expect(identityOfPurl('pkg:generic/thing@1').identity).toBeNull();
    expect(() => identityOfPurl('npm/lodash')).toThrow();
  });
});

/** An SPDX 2.3 document as syft writes one, around these packages. */
const spdxDocument = (packages: Record<string, unknown>[]) => ({
  spdxVersion: 'SPDX-2.3',
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'registry.example.com/app',
  documentNamespace: 'https://anchore.com/syft/image/registry.example.com/app-1f1e5b1c',
  creationInfo: {
    creators: ['Organization: Anchore, Inc', 'Tool: syft-1.4.1'],
    created: '2024-05-01T12:00:00Z',
  },
  packages: packages.map((p, i) => ({
    SPDXID: `SPDXRef-Package-${i}`,
    downloadLocation: 'NOASSERTION',
    ...p,
  })),
});

describe(readSbom.name, () => {
  it('reads CycloneDX components, nested ones too, and their licenses', () => {
    const r = readSbom('cyclonedx', {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      version: 1,
      components: [
        {
          type: 'library',
          name: 'lodash',
          version: '4.17.20',
          purl: 'pkg:npm/lodash@4.17.20',
          licenses: [{ license: { id: 'MIT' } }],
        },
        {
          type: 'library',
          name: 'parent',
          version: '1.0.0',
          purl: 'pkg:npm/parent@1.0.0',
          licenses: [{ expression: 'MIT OR Apache-2.0' }],
          components: [
            {
              type: 'library',
              name: 'child',
              version: '2.0.0',
              purl: 'pkg:npm/child@2.0.0',
              licenses: [{ license: { id: 'MIT' } }, { license: { id: 'ISC' } }],
            },
          ],
        },
        {
          type: 'library',
          name: 'named-only',
          version: '1',
          purl: 'pkg:npm/named-only@1',
          licenses: [{ license: { name: 'Some custom text' } }],
        },
        { type: 'library', name: 'broken', purl: 'not a purl' },
      ],
    });
    expect(r.packages.map((p) => [p.name, p.version, p.license])).toEqual([
      ['lodash', '4.17.20', 'MIT'],
      ['parent', '1.0.0', 'MIT OR Apache-2.0'],
      ['child', '2.0.0', '(MIT) AND (ISC)'],
      ['named-only', '1', null],
      ['broken', null, null],
    ]);
    expect(r.problems).toEqual([expect.stringMatching(/^broken: malformed purl/)]);
  });

  it('reads SPDX packages: purl from externalRefs, concluded license before declared, NOASSERTION as none', () => {
    const r = readSbom(
      'spdx',
      spdxDocument([
        { name: 'image', versionInfo: '1', licenseConcluded: 'NOASSERTION' },
        {
          name: 'requests',
          versionInfo: '2.19.0',
          licenseConcluded: 'NOASSERTION',
          licenseDeclared: 'Apache-2.0',
          externalRefs: [
            {
              referenceCategory: 'PACKAGE-MANAGER',
              referenceType: 'purl',
              referenceLocator: 'pkg:pypi/requests@2.19.0',
            },
          ],
        },
        { name: 'gpl-thing', versionInfo: '1.0', licenseConcluded: 'GPL-3.0-only', licenseDeclared: 'MIT' },
      ]),
    );
    expect(r.packages.map((p) => [p.name, p.purl, p.license])).toEqual([
      ['image', null, null],
      ['requests', 'pkg:pypi/requests@2.19.0', 'Apache-2.0'],
      ['gpl-thing', null, 'GPL-3.0-only'],
    ]);
  });

  it('reads components wherever CycloneDX puts them: under the described image and in formulation', () => {
    const r = readSbom('cyclonedx', {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      metadata: {
        component: {
          type: 'application',
          name: 'app',
          components: [{ type: 'library', name: 'lodash', version: '4.17.4', purl: 'pkg:npm/lodash@4.17.4' }],
        },
      },
      formulation: [
        {
          components: [
            { type: 'library', name: 'left-pad', version: '1.3.0', purl: 'pkg:npm/left-pad@1.3.0' },
          ],
        },
      ],
    });
    expect(r.packages.map((p) => p.name)).toEqual(['lodash', 'left-pad']);
  });

  it('an empty name falls back to the purl; a version that contradicts the purl is a problem', () => {
    const r = readSbom('cyclonedx', {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [
        { type: 'library', name: '', version: '4.17.4', purl: 'pkg:npm/lodash@4.17.4' },
        { type: 'library', name: 'minimist', version: '99.0.0', purl: 'pkg:npm/minimist@1.2.5' },
      ],
    });
    expect(r.packages.map((p) => [p.name, p.version])).toEqual([
      ['lodash', '4.17.4'],
      ['minimist', '1.2.5'],
    ]);
    expect(r.problems).toEqual(['minimist: version 99.0.0 but its purl says 1.2.5']);
  });

  it('refuses a document that is not the format it claims', () => {
    expect(() => readSbom('cyclonedx', spdxDocument([]))).toThrow(/not a CycloneDX/);
    expect(() => readSbom('spdx', { bomFormat: 'CycloneDX', specVersion: '1.5' })).toThrow(/not an SPDX/);
    expect(() => readSbom('spdx', 'text')).toThrow(/not an SPDX/);
  });

  it('refuses wrong types by schema, and reads deep but valid nesting only so far', () => {
    expect(() =>
      readSbom('cyclonedx', {
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        components: [5, null, { name: 7 }],
      }),
    ).toThrow(/^CycloneDX 1\.5 document does not match its schema: \/components\/0: must be object/);
    expect(() =>
      readSbom('cyclonedx', { bomFormat: 'CycloneDX', specVersion: '1.5', components: 'x' }),
    ).toThrow('/components: must be array');
    let deep: Record<string, unknown> = { type: 'library', name: 'leaf', purl: 'pkg:npm/leaf@1' };
    for (let i = 0; i < 100; i++) deep = { type: 'library', name: `n${i}`, components: [deep] };
    const r = readSbom('cyclonedx', { bomFormat: 'CycloneDX', specVersion: '1.5', components: [deep] });
    expect(r.packages).toHaveLength(33);
    expect(r.problems).toContainEqual(expect.stringMatching(/nested deeper/));
  });
});
