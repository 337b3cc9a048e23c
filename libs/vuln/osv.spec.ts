import { osvProblems } from './osv';

const valid = {
  schema_version: '1.6.0',
  id: 'GHSA-aaaa-bbbb-cccc',
  modified: '2026-01-02T03:04:05Z',
  aliases: ['CVE-2026-0001'],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'x' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }],
      database_specific: { anything: true },
    },
  ],
  references: [{ type: 'WEB', url: 'https://example.com' }],
};

describe(osvProblems.name, () => {
  it('accepts an OSV document, with fields it does not read', () => {
    expect(osvProblems(valid)).toEqual([]);
  });

  it.each([
    ['not an object', 'GHSA'],
    ['no id', { ...valid, id: undefined }],
    ['an id with a slash', { ...valid, id: '../etc/passwd' }],
    ['no modified', { ...valid, modified: undefined }],
    ['a modified that is not a timestamp', { ...valid, modified: 'yesterday' }],
    ['an impossible date', { ...valid, modified: '2026-02-31T99:00:00Z' }],
    [
      'an unknown range type',
      { ...valid, affected: [{ ranges: [{ type: 'CALVER', events: [{ introduced: '0' }] }] }] },
    ],
    [
      'an event with two keys',
      { ...valid, affected: [{ ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }] }] },
    ],
    [
      'an unknown event',
      { ...valid, affected: [{ ranges: [{ type: 'SEMVER', events: [{ patched: '1' }] }] }] },
    ],
    ['a package without a name', { ...valid, affected: [{ package: { ecosystem: 'npm' } }] }],
    ['aliases that are not strings', { ...valid, aliases: [1] }],
    ['a NUL in a summary', { ...valid, summary: 'a\u0000b' }],
    ['a NUL in an unread field', { ...valid, database_specific: { 'k\u0000': 1 } }],
    [
      'nesting 10,000 deep',
      { ...valid, database_specific: JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) },
    ],
  ])('refuses %s', (_what, doc) => {
    expect(osvProblems(doc).length).toBeGreaterThan(0);
  });
});
