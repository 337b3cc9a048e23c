// Checks that manifest bytes are a manifest Airlock understands, so callers can trust the types.
import { RegistryError, type RegistryErrorDetails } from './errors';
import { isSha256Digest } from './digest-stream';
import {
  MANIFEST_MEDIA_TYPES,
  MediaType,
  isIndexMediaType,
  type Descriptor,
  type Manifest,
} from './media-types';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkDescriptor(value: unknown, where: string, fail: (why: string) => never): Descriptor {
  if (!isObject(value)) return fail(`${where} is not an object`);
  const d = value;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') fail(`${where} has no mediaType`);
  if (typeof d.digest !== 'string' || !isSha256Digest(d.digest)) {
    fail(`${where} digest ${JSON.stringify(String(d.digest).slice(0, 80))} is not sha256:<64 hex>`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    fail(`${where} has no valid size`);
  }
  if (d.annotations !== undefined && !isObject(d.annotations)) fail(`${where} annotations are not an object`);
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string')
    fail(`${where} artifactType is not a string`);
  return d as unknown as Descriptor;
}

/** The media type without parameters (`; charset=utf-8`), lower-cased. */
export function bareMediaType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0].trim().toLowerCase();
  return bare === '' ? undefined : bare;
}

/**
 * Parses and checks a manifest. The media type comes from the document's own `mediaType`, or from
 * Content-Type when the document has none; a Content-Type that names a different manifest type is
 * refused, as is anything that is not one of MANIFEST_MEDIA_TYPES.
 */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
  what: string,
  context: RegistryErrorDetails,
): { mediaType: string; json: Manifest } {
  const fail = (why: string): never => {
    throw new RegistryError('protocol', `${what}: ${why}`, context);
  };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('not valid JSON');
  }
  if (!isObject(json)) return fail('not a JSON object');
  if (json.schemaVersion !== 2)
    fail(`schemaVersion ${JSON.stringify(json.schemaVersion)} is not supported (only 2)`);
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== 'string') fail('mediaType is not a string');
  const header = bareMediaType(contentType);
  const headerIsManifest = header !== undefined && MANIFEST_MEDIA_TYPES.includes(header);
  let mediaType: string;
  if (typeof declared === 'string') {
    if (!MANIFEST_MEDIA_TYPES.includes(declared)) fail(`media type ${declared} is not supported`);
    if (headerIsManifest && header !== declared) {
      fail(`the media type given is ${header} but the document says ${declared}`);
    }
    mediaType = declared;
  } else if (headerIsManifest) {
    mediaType = header;
  } else if (Array.isArray(json.manifests)) {
    mediaType = MediaType.OciIndex;
  } else if (isObject(json.config) && Array.isArray(json.layers)) {
    mediaType = MediaType.OciManifest;
  } else {
    return fail(`media type ${header ?? '(none)'} is not a supported manifest type`);
  }
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(json.manifests)) fail('an index without a manifests list');
    (json.manifests as unknown[]).forEach((m, i) => checkDescriptor(m, `manifests[${i}]`, fail));
    if (json.layers !== undefined || json.config !== undefined) fail('an index with config or layers');
  } else {
    checkDescriptor(json.config, 'config', fail);
    if (!Array.isArray(json.layers)) fail('a manifest without a layers list');
    (json.layers as unknown[]).forEach((l, i) => checkDescriptor(l, `layers[${i}]`, fail));
    if (json.manifests !== undefined) fail('an image manifest with a manifests list');
  }
  if (json.subject !== undefined) checkDescriptor(json.subject, 'subject', fail);
  return { mediaType, json: json as unknown as Manifest };
}
