import { type Descriptor } from './media-types';
import { filterByArtifactType, nextLink } from './referrers';

describe(nextLink.name, () => {
  const base = new URL('https://registry.example.com/v2/app/referrers/sha256:abc?artifactType=x');

  // Pagination of the referrers API (and of tag lists): Link: <url>; rel="next" (RFC 8288).
  it.each<[string, string | string[] | undefined, string | undefined]>([
    ['no header', undefined, undefined],
    ['an empty header', '', undefined],
    [
      'a relative next link resolves against the request',
      '</v2/app/referrers/sha256:abc?n=10&last=x>; rel="next"',
      'https://registry.example.com/v2/app/referrers/sha256:abc?n=10&last=x',
    ],
    [
      'an absolute next link',
      '<https://other.example.com/page2>; rel="next"',
      'https://other.example.com/page2',
    ],
    ['rel without quotes', '</page2>; rel=next', 'https://registry.example.com/page2'],
    ['rel in another case', '</page2>; REL="Next"', 'https://registry.example.com/page2'],
    [
      'other parameters before rel',
      '</page2>; type="application/json"; rel="next"',
      'https://registry.example.com/page2',
    ],
    ['only a prev link', '</page0>; rel="prev"', undefined],
    [
      'prev and next in one header',
      '</page0>; rel="prev", </page2>; rel="next"',
      'https://registry.example.com/page2',
    ],
    [
      'prev and next in two headers',
      ['</page0>; rel="prev"', '</page2>; rel="next"'],
      'https://registry.example.com/page2',
    ],
    ['a comma inside the URL', '</page2?a=1,2>; rel="next"', 'https://registry.example.com/page2?a=1,2'],
    ['no angle brackets is not a link', '/page2; rel="next"', undefined],
    ['a link without rel', '</page2>', undefined],
  ])('%s', (_name, header, expected) => {
    expect(nextLink(header, base)?.href).toBe(expected);
  });
});

describe(filterByArtifactType.name, () => {
  const d = (artifactType?: string): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${'a'.repeat(64)}`,
    size: 1,
    ...(artifactType === undefined ? {} : { artifactType }),
  });
  const all = [d('application/vnd.dev.sigstore.bundle.v0.3+json'), d('application/spdx+json'), d()];

  it.each<[string | undefined, number]>([
    [undefined, 3],
    ['application/spdx+json', 1],
    ['application/unknown', 0],
  ])('artifactType %s keeps %d', (artifactType, count) => {
    expect(filterByArtifactType(all, artifactType)).toHaveLength(count);
  });
});
