import { readSbom } from './sbom-packages';
import { CYCLONEDX_SPEC_VERSIONS, MAX_SBOM_NESTING, validateSbomSchema } from './sbom-schemas';

// Small documents shaped like what syft and trivy emit.

const lodash = {
  'bom-ref': 'pkg:npm/lodash@4.17.20?package-id=5c2b3f4d1e0a9b87',
  type: 'library',
  author: 'John-David Dalton <john.david.dalton@gmail.com>',
  name: 'lodash',
  version: '4.17.20',
  licenses: [{ license: { id: 'MIT' } }],
  cpe: 'cpe:2.3:a:lodash:lodash:4.17.20:*:*:*:*:*:*:*',
  purl: 'pkg:npm/lodash@4.17.20',
  properties: [
    { name: 'syft:package:foundBy', value: 'javascript-package-cataloger' },
    { name: 'syft:location:0:path', value: '/app/node_modules/lodash/package.json' },
  ],
};
const openssl = {
  'bom-ref': 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
  type: 'library',
  publisher: 'Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>',
  name: 'libssl3',
  version: '3.0.11-1~deb12u2',
  licenses: [{ expression: 'Apache-2.0' }],
  purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
};
const image = {
  'bom-ref': '6a1b0c2d3e4f5a6b',
  type: 'container',
  name: 'registry.example.com/app',
  version: 'sha256:3f1e5b1c9a0d2e4f6a8b7c5d3e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f',
};

/** syft 1.x, CycloneDX 1.5 and 1.6: tools as components, the image as metadata.component. */
function syftCycloneDx(specVersion: '1.5' | '1.6', components: unknown[] = [lodash, openssl]) {
  return {
    $schema: `http://cyclonedx.org/schema/bom-${specVersion}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion,
    serialNumber: 'urn:uuid:1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d',
    version: 1,
    metadata: {
      timestamp: '2024-05-01T12:00:00Z',
      tools: { components: [{ type: 'application', author: 'anchore', name: 'syft', version: '1.4.1' }] },
      component: image,
    },
    components,
    dependencies: [{ ref: image['bom-ref'], dependsOn: [lodash['bom-ref'], openssl['bom-ref']] }],
  };
}

/** trivy 0.4x, CycloneDX 1.4: tools as a list, a timezone offset, licenses by name. */
const trivyCycloneDx14 = {
  $schema: 'http://cyclonedx.org/schema/bom-1.4.schema.json',
  bomFormat: 'CycloneDX',
  specVersion: '1.4',
  serialNumber: 'urn:uuid:8e4f2a1c-7b3d-4e5f-9a0b-1c2d3e4f5a6b',
  version: 1,
  metadata: {
    timestamp: '2024-05-01T12:00:00+00:00',
    tools: [{ vendor: 'aquasecurity', name: 'trivy', version: '0.45.1' }],
    component: { 'bom-ref': 'pkg:oci/app@sha256%3A3f1e', type: 'container', name: 'app:1.0' },
  },
  components: [
    {
      'bom-ref': 'pkg:pypi/requests@2.19.0',
      type: 'library',
      name: 'requests',
      version: '2.19.0',
      licenses: [{ license: { name: 'Apache 2.0' } }],
      purl: 'pkg:pypi/requests@2.19.0',
      properties: [{ name: 'aquasecurity:trivy:PkgType', value: 'python-pkg' }],
    },
  ],
  dependencies: [{ ref: 'pkg:oci/app@sha256%3A3f1e', dependsOn: ['pkg:pypi/requests@2.19.0'] }],
  vulnerabilities: [],
};

function syftSpdx(spdxVersion = 'SPDX-2.3') {
  return {
    spdxVersion,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'registry.example.com/app',
    documentNamespace: 'https://anchore.com/syft/image/registry.example.com/app-3f1e5b1c-9a0d-4e2f',
    creationInfo: {
      licenseListVersion: '3.23',
      creators: ['Organization: Anchore, Inc', 'Tool: syft-1.4.1'],
      created: '2024-05-01T12:00:00Z',
    },
    packages: [
      {
        name: 'registry.example.com/app',
        SPDXID: 'SPDXRef-DocumentRoot-Image-registry.example.com-app',
        versionInfo: 'sha256:3f1e5b1c',
        supplier: 'NOASSERTION',
        downloadLocation: 'NOASSERTION',
        primaryPackagePurpose: 'CONTAINER',
        checksums: [{ algorithm: 'SHA256', checksumValue: '3f1e5b1c9a0d2e4f' }],
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
      },
      {
        name: 'requests',
        SPDXID: 'SPDXRef-Package-python-requests-9b1c2d3e4f5a6b7c',
        versionInfo: '2.19.0',
        supplier: 'NOASSERTION',
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        sourceInfo:
          'acquired package info from installed python package manifest file: /usr/lib/python3/METADATA',
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'Apache-2.0',
        copyrightText: 'NOASSERTION',
        externalRefs: [
          {
            referenceCategory: 'SECURITY',
            referenceType: 'cpe23Type',
            referenceLocator: 'cpe:2.3:a:python-requests:requests:2.19.0:*:*:*:*:*:*:*',
          },
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: 'pkg:pypi/requests@2.19.0',
          },
        ],
      },
    ],
    relationships: [
      {
        spdxElementId: 'SPDXRef-DOCUMENT',
        relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-registry.example.com-app',
        relationshipType: 'DESCRIBES',
      },
      {
        spdxElementId: 'SPDXRef-DocumentRoot-Image-registry.example.com-app',
        relatedSpdxElement: 'SPDXRef-Package-python-requests-9b1c2d3e4f5a6b7c',
        relationshipType: 'CONTAINS',
      },
    ],
  };
}

type Doc = Record<string, any>;
const edit = (doc: Doc, change: (d: Doc) => void): Doc => {
  const copy = structuredClone(doc);
  change(copy);
  return copy;
};
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

const listed = (packages: Array<{ name: string }>) => packages.map((p) => p.name);

describe('SBOM schema validation', () => {
  it.each([
    ['CycloneDX 1.4 (trivy)', trivyCycloneDx14, ['requests']],
    ['CycloneDX 1.5 (syft)', syftCycloneDx('1.5'), ['lodash', 'libssl3']],
    ['CycloneDX 1.6 (syft)', syftCycloneDx('1.6'), ['lodash', 'libssl3']],
  ])('accepts %s and reads it', (_label, doc, names) => {
    const r = readSbom('cyclonedx', doc);
    expect(listed(r.packages)).toEqual(names);
    expect(r.problems).toEqual([]);
  });

  it('accepts CycloneDX 1.6 license acknowledgements and reads them', () => {
    const doc = syftCycloneDx('1.6', [
      { ...lodash, licenses: [{ license: { id: 'MIT', acknowledgement: 'declared' } }] },
    ]);
    expect(readSbom('cyclonedx', doc).packages.find((p) => p.name === 'lodash')).toMatchObject({
      license: 'MIT',
      version: '4.17.20',
    });
  });

  it.each(CYCLONEDX_SPEC_VERSIONS)('has the official schema of CycloneDX %s', (specVersion) => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion,
      version: 1,
      components: [{ type: 'library', name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1' }],
    };
    expect(() => validateSbomSchema('cyclonedx', doc)).not.toThrow();
    expect(() => validateSbomSchema('cyclonedx', { ...doc, unknown: 1 })).toThrow(/unknown field "unknown"/);
  });

  it('accepts SPDX 2.3 (syft) and reads it', () => {
    const r = readSbom('spdx', syftSpdx());
    expect(r.packages.map((p) => [p.name, p.purl, p.license])).toEqual([
      ['registry.example.com/app', null, null],
      ['requests', 'pkg:pypi/requests@2.19.0', 'Apache-2.0'],
    ]);
    expect(r.problems).toEqual([]);
  });

  it('accepts SPDX 2.2 against the 2.2 schema, with its own spellings', () => {
    // Older syft wrote SPDX-2.2 with PACKAGE_MANAGER, which only the 2.2 schema allows.
    const doc = edit(syftSpdx('SPDX-2.2'), (d) => {
      delete d.packages[0].primaryPackagePurpose;
      d.packages[1].externalRefs[1].referenceCategory = 'PACKAGE_MANAGER';
    });
    expect(readSbom('spdx', doc).packages[1].purl).toBe('pkg:pypi/requests@2.19.0');
    expect(() => readSbom('spdx', { ...doc, spdxVersion: 'SPDX-2.3' })).toThrow(
      '/packages/1/externalRefs/1/referenceCategory: must be one of "OTHER", "PERSISTENT-ID", "SECURITY", "PACKAGE-MANAGER"',
    );
    // 2.2 requires the license and copyright fields 2.3 made optional.
    expect(() =>
      readSbom(
        'spdx',
        edit(doc, (d) => delete d.packages[1].licenseDeclared),
      ),
    ).toThrow(
      "SPDX-2.2 document does not match its schema: /packages/1: must have required property 'licenseDeclared'",
    );
  });

  it.each<[string, 'cyclonedx' | 'spdx', Doc, string | RegExp]>([
    [
      'a component without a name',
      'cyclonedx',
      edit(syftCycloneDx('1.5'), (d) => delete d.components[1].name),
      "CycloneDX 1.5 document does not match its schema: /components/1: must have required property 'name'",
    ],
    [
      'a component without a type',
      'cyclonedx',
      edit(syftCycloneDx('1.6'), (d) => delete d.components[0].type),
      "CycloneDX 1.6 document does not match its schema: /components/0: must have required property 'type'",
    ],
    [
      'a version that is a number',
      'cyclonedx',
      edit(syftCycloneDx('1.6'), (d) => (d.components[0].version = 4)),
      '/components/0/version: must be string',
    ],
    [
      'an unknown component type',
      'cyclonedx',
      edit(trivyCycloneDx14, (d) => (d.components[0].type = 'malware')),
      /\/components\/0\/type: must be one of "application", "framework", "library"/,
    ],
    [
      'a timestamp that is not a date-time',
      'cyclonedx',
      edit(syftCycloneDx('1.5'), (d) => (d.metadata.timestamp = 'yesterday')),
      '/metadata/timestamp: must match format "date-time"',
    ],
    [
      'a license id that SPDX does not list',
      'cyclonedx',
      edit(syftCycloneDx('1.5'), (d) => (d.components[0].licenses = [{ license: { id: 'Not-A-License' } }])),
      '/components/0/licenses/0/license/id: must be equal to one of the allowed values',
    ],
    [
      'an unknown top-level field',
      'cyclonedx',
      { ...syftCycloneDx('1.6'), extra: true },
      'CycloneDX 1.6 document does not match its schema: /: unknown field "extra"',
    ],
    [
      'an unknown specVersion',
      'cyclonedx',
      { ...syftCycloneDx('1.6'), specVersion: '1.9' },
      'CycloneDX specVersion "1.9" is not supported (supported: 1.2, 1.3, 1.4, 1.5, 1.6, 1.7)',
    ],
    [
      'CycloneDX 1.1, which has no JSON format',
      'cyclonedx',
      { ...syftCycloneDx('1.6'), specVersion: '1.1' },
      /specVersion "1\.1" is not supported/,
    ],
    [
      'no specVersion',
      'cyclonedx',
      { bomFormat: 'CycloneDX', components: [] },
      /CycloneDX specVersion missing is not supported/,
    ],
    [
      'no creationInfo',
      'spdx',
      edit(syftSpdx(), (d) => delete d.creationInfo),
      "SPDX-2.3 document does not match its schema: /: must have required property 'creationInfo'",
    ],
    [
      'a package without downloadLocation',
      'spdx',
      edit(syftSpdx(), (d) => delete d.packages[1].downloadLocation),
      "/packages/1: must have required property 'downloadLocation'",
    ],
    [
      'a package SPDXID without the SPDXRef- prefix',
      'spdx',
      edit(syftSpdx(), (d) => (d.packages[1].SPDXID = 'Package-requests')),
      '/packages/1/SPDXID: must match pattern "^SPDXRef-[A-Za-z0-9.-]+$"',
    ],
    [
      'a package SPDXID with a space',
      'spdx',
      edit(syftSpdx(), (d) => (d.packages[0].SPDXID = 'SPDXRef-my package')),
      '/packages/0/SPDXID: must match pattern',
    ],
    [
      'a document SPDXID other than SPDXRef-DOCUMENT',
      'spdx',
      { ...syftSpdx(), SPDXID: 'SPDXRef-Other' },
      '/SPDXID: must be "SPDXRef-DOCUMENT"',
    ],
    [
      'no documentNamespace',
      'spdx',
      edit(syftSpdx(), (d) => delete d.documentNamespace),
      "/: must have required property 'documentNamespace'",
    ],
    [
      'a relationship type SPDX does not define',
      'spdx',
      edit(syftSpdx(), (d) => (d.relationships[1].relationshipType = 'OWNS')),
      '/relationships/1/relationshipType: must be equal to one of the allowed values',
    ],
    [
      'an unknown spdxVersion',
      'spdx',
      { ...syftSpdx(), spdxVersion: 'SPDX-2.1' },
      'SPDX spdxVersion "SPDX-2.1" is not supported (supported: SPDX-2.2, SPDX-2.3)',
    ],
  ])('refuses %s', (_label, format, doc, expected) => {
    expect(() => readSbom(format, doc)).toThrow(expected);
  });

  it('keeps uniqueItems meaning JSON equality (key order aside), in linear time', () => {
    const a = { type: 'library', name: 'a', version: '1', properties: [{ name: 'x', value: 'y' }] };
    const reordered = { properties: [{ value: 'y', name: 'x' }], version: '1', name: 'a', type: 'library' };
    expect(() => readSbom('cyclonedx', syftCycloneDx('1.6', [lodash, a, reordered]))).toThrow(
      'CycloneDX 1.6 document does not match its schema: /components: must NOT have duplicate items (items ## 2 and 1 are identical)',
    );
    const nestedTwice = { ...image, components: [a, { ...a }] };
    expect(() => readSbom('cyclonedx', syftCycloneDx('1.6', [nestedTwice]))).toThrow(
      '/components/0/components: must NOT have duplicate items',
    );
    const different = [a, { ...a, version: '1.0' }, { ...a, properties: [{ name: 'x', value: 'z' }] }];
    expect(listed(readSbom('cyclonedx', syftCycloneDx('1.6', different)).packages)).toHaveLength(3);
    // Strings that look like the keys of objects, or like other scalars, are not them.
    const refs = ['#0', '{}', '[]', 'null', '"a"', '1', '[2'];
    const dependsOn = (list: string[]) => ({
      ...syftCycloneDx('1.6'),
      dependencies: [{ ref: 'x', dependsOn: list }],
    });
    expect(() => readSbom('cyclonedx', dependsOn(refs))).not.toThrow();
    expect(() => readSbom('cyclonedx', dependsOn([...refs, '{}']))).toThrow(
      '/dependencies/0/dependsOn: must NOT have duplicate items (items ## 7 and 1 are identical)',
    );
    // Items alike at the top level but not below are different items.
    const deepA = { ...image, components: [{ ...a, properties: [{ name: 'x', value: 'deep-1' }] }] };
    const deepB = { ...image, components: [{ ...a, properties: [{ name: 'x', value: 'deep-2' }] }] };
    expect(readSbom('cyclonedx', syftCycloneDx('1.6', [deepA, deepB])).packages).toHaveLength(4);
    expect(() => readSbom('cyclonedx', syftCycloneDx('1.6', [deepA, deepB, structuredClone(deepB)]))).toThrow(
      '/components: must NOT have duplicate items (items ## 2 and 1 are identical)',
    );
  });

  it('bounds the message and does not echo control characters from the document', () => {
    const key = `\u001b[31m${'k'.repeat(5000)}\u202e\n`;
    const message = messageOf(() => readSbom('cyclonedx', { ...syftCycloneDx('1.5'), [key]: 1 }));
    expect(message.length).toBeLessThanOrEqual(1001);
    expect(message).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(message).toMatch(
      /^CycloneDX 1\.5 document does not match its schema: \/: unknown field "\?\[31mkkk/,
    );
    const version = messageOf(() =>
      readSbom('spdx', { ...syftSpdx(), spdxVersion: `SPDX-2.${'9'.repeat(1000)}` }),
    );
    expect(version.length).toBeLessThan(200);
  });

  it('refuses documents nested deeper than it validates, before validating them', () => {
    let deep: Record<string, unknown> = { type: 'library', name: 'leaf' };
    for (let i = 0; i < MAX_SBOM_NESTING; i++) deep = { type: 'library', name: `n${i}`, components: [deep] };
    expect(() => readSbom('cyclonedx', syftCycloneDx('1.6', [deep]))).toThrow(
      `CycloneDX 1.6 document nests deeper than ${MAX_SBOM_NESTING} levels`,
    );
  });

  it('refuses NUL characters, which could not be stored with the findings', () => {
    expect(() => readSbom('cyclonedx', syftCycloneDx('1.6', [{ ...lodash, name: 'lo\u0000dash' }]))).toThrow(
      'CycloneDX 1.6 document holds a NUL character in a string',
    );
  });

  it('fetches nothing, whatever the document refers to', () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network'));
    try {
      const doc = { ...syftCycloneDx('1.6'), $schema: 'http://attacker.example/schema.json' };
      expect(() => readSbom('cyclonedx', doc)).not.toThrow();
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  // How long this takes is measured by bench/advisory-match.ts (npm run bench), not asserted here:
  // a timed assertion fails on a busy machine without saying anything about the code.
  it('validates a 2,000-component CycloneDX document', () => {
    const components = Array.from({ length: 2000 }, (_, i) => ({
      ...lodash,
      'bom-ref': `pkg:npm/pkg-${i}@1.${i}.0?package-id=${i.toString(16).padStart(16, '0')}`,
      name: `pkg-${i}`,
      version: `1.${i}.0`,
      purl: `pkg:npm/pkg-${i}@1.${i}.0`,
    }));
    const doc = syftCycloneDx('1.6', components);
    expect(() => validateSbomSchema('cyclonedx', doc)).not.toThrow();
    expect(() => validateSbomSchema('cyclonedx', doc)).not.toThrow(); // compiled once, reused
  });
});
