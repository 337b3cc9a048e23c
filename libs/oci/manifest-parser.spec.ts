import { RegistryError } from './errors';
import { bareMediaType, parseManifest } from './manifest-parser';
import { MediaType, isImageIndex, isIndexMediaType } from './media-types';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (c: string, mediaType: string = MediaType.OciLayerTarGzip) => ({
  mediaType,
  digest: digest(c),
  size: 10,
});
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  config: descriptor('c', MediaType.OciConfig),
  layers: [descriptor('1'), descriptor('2')],
  ...extra,
});
const index = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  manifests: [descriptor('a', MediaType.OciManifest)],
  ...extra,
});
const bytes = (json: unknown) => Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));

describe(parseManifest.name, () => {
  const parse = (json: unknown, contentType?: string) =>
    parseManifest(bytes(json), contentType, 'manifest app:1', { registry: 'r' });

  // Which media type a document gets: its own, else Content-Type's, else its shape.
  it.each<[string, unknown, string | undefined, string]>([
    ['declared OCI manifest', image({ mediaType: MediaType.OciManifest }), undefined, MediaType.OciManifest],
    [
      'declared Docker manifest',
      image({ mediaType: MediaType.DockerManifest }),
      undefined,
      MediaType.DockerManifest,
    ],
    ['declared OCI index', index({ mediaType: MediaType.OciIndex }), undefined, MediaType.OciIndex],
    [
      'declared Docker list',
      index({ mediaType: MediaType.DockerManifestList }),
      undefined,
      MediaType.DockerManifestList,
    ],
    [
      'from Content-Type with parameters',
      image(),
      `${MediaType.DockerManifest}; charset=utf-8`,
      MediaType.DockerManifest,
    ],
    [
      'from Content-Type in upper case',
      index(),
      MediaType.DockerManifestList.toUpperCase(),
      MediaType.DockerManifestList,
    ],
    ['an index by shape', index(), 'application/json', MediaType.OciIndex],
    ['a manifest by shape', image(), undefined, MediaType.OciManifest],
    [
      'declared and Content-Type agree',
      image({ mediaType: MediaType.OciManifest }),
      MediaType.OciManifest,
      MediaType.OciManifest,
    ],
    [
      'a non-manifest Content-Type does not contradict',
      image({ mediaType: MediaType.OciManifest }),
      'application/octet-stream',
      MediaType.OciManifest,
    ],
    [
      'with a subject',
      image({ subject: descriptor('d', MediaType.OciManifest) }),
      undefined,
      MediaType.OciManifest,
    ],
    [
      'with annotations and artifactType on descriptors',
      image({ layers: [{ ...descriptor('1'), annotations: { a: 'b' }, artifactType: 'x' }] }),
      undefined,
      MediaType.OciManifest,
    ],
    ['with no layers (an artifact)', image({ layers: [] }), undefined, MediaType.OciManifest],
  ])('accepts %s', (_name, json, contentType, mediaType) => {
    const parsed = parse(json, contentType);
    expect(parsed.mediaType).toBe(mediaType);
    expect(isImageIndex(parsed.json)).toBe(isIndexMediaType(mediaType));
  });

  it.each<[string, unknown, string | undefined, RegExp]>([
    ['bytes that are not JSON', '{not json', undefined, /not valid JSON/],
    ['a JSON array', [], undefined, /not a JSON object/],
    ['JSON null', 'null', undefined, /not a JSON object/],
    ['schema version 1', image({ schemaVersion: 1 }), undefined, /schemaVersion 1 is not supported/],
    ['no schema version', { config: descriptor('c'), layers: [] }, undefined, /schemaVersion undefined/],
    ['a mediaType that is not a string', image({ mediaType: 7 }), undefined, /mediaType is not a string/],
    [
      'an unknown declared media type',
      image({ mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }),
      undefined,
      /is not supported/,
    ],
    [
      'a Content-Type naming another manifest type',
      image({ mediaType: MediaType.OciManifest }),
      MediaType.DockerManifest,
      /the media type given is/,
    ],
    [
      'neither shape nor type',
      { schemaVersion: 2, foo: 1 },
      'text/plain',
      /text\/plain is not a supported manifest type/,
    ],
    [
      'an index without manifests',
      { schemaVersion: 2, mediaType: MediaType.OciIndex },
      undefined,
      /index without a manifests list/,
    ],
    ['an index with layers', index({ layers: [] }), undefined, /index with config or layers/],
    [
      'a manifest with a manifests list',
      image({ mediaType: MediaType.OciManifest, manifests: [] }),
      undefined,
      /image manifest with a manifests list/,
    ],
    [
      'a manifest without layers',
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor('c') },
      undefined,
      /without a layers list/,
    ],
    [
      'a manifest without config',
      { schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] },
      undefined,
      /config is not an object/,
    ],
    [
      'a descriptor without mediaType',
      image({ layers: [{ digest: digest('1'), size: 1 }] }),
      undefined,
      /layers\[0\] has no mediaType/,
    ],
    [
      'a sha512 digest',
      image({ layers: [{ ...descriptor('1'), digest: `sha512:${'a'.repeat(128)}` }] }),
      undefined,
      /layers\[0\] digest .* is not sha256/,
    ],
    [
      'an upper-case digest',
      image({ layers: [{ ...descriptor('1'), digest: `sha256:${'A'.repeat(64)}` }] }),
      undefined,
      /is not sha256/,
    ],
    [
      'a negative size',
      image({ layers: [{ ...descriptor('1'), size: -1 }] }),
      undefined,
      /layers\[0\] has no valid size/,
    ],
    [
      'a fractional size',
      image({ layers: [{ ...descriptor('1'), size: 1.5 }] }),
      undefined,
      /has no valid size/,
    ],
    [
      'a size as a string',
      image({ layers: [{ ...descriptor('1'), size: '10' }] }),
      undefined,
      /has no valid size/,
    ],
    [
      'annotations that are a list',
      image({ layers: [{ ...descriptor('1'), annotations: [] }] }),
      undefined,
      /annotations are not an object/,
    ],
    [
      'an artifactType that is not a string',
      image({ layers: [{ ...descriptor('1'), artifactType: 1 }] }),
      undefined,
      /artifactType is not a string/,
    ],
    [
      'a bad index entry',
      index({ manifests: [descriptor('a'), 'x'] }),
      undefined,
      /manifests\[1\] is not an object/,
    ],
    [
      'a bad subject',
      image({ subject: { mediaType: MediaType.OciManifest, digest: 'x', size: 1 } }),
      undefined,
      /subject digest/,
    ],
  ])('refuses %s', (_name, json, contentType, message) => {
    let thrown: unknown;
    try {
      parse(json, contentType);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RegistryError);
    const error = thrown as RegistryError;
    expect(error.kind).toBe('protocol');
    expect(error.permanent).toBe(true);
    expect(error.registry).toBe('r');
    expect(error.message).toMatch(/^manifest app:1: /);
    expect(error.message).toMatch(message);
  });
});

describe(bareMediaType.name, () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['  ; charset=utf-8', undefined],
    ['Application/JSON; charset=utf-8', 'application/json'],
    [` ${MediaType.OciIndex} `, MediaType.OciIndex],
  ])('%j → %j', (contentType, bare) => {
    expect(bareMediaType(contentType)).toBe(bare);
  });
});
