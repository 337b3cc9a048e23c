import { type Bundle } from '@sigstore/bundle';
import {
  bundleFromCosignAnnotations,
  COSIGN_CERTIFICATE,
  COSIGN_SIGNATURE,
  compileTrust,
  DIGEST,
  parseBundle,
  requiredSigners,
  sha256Hex,
  type TrustInput,
  verifyBundleSignature,
} from './signer-trust';
import {
  finding,
  SignatureForm,
  signatureVerdict,
  type SignatureVerification,
  TrustReason,
  type TrustFinding,
} from './trust-findings';

export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
/** A simplesigning payload is a few hundred bytes; anything this large is not one. */
export const MAX_SIMPLESIGNING_PAYLOAD = 256 * 1024;
export const MAX_SIGNATURE_LAYERS = 100;

/**
 * Layer bytes by digest, or a function that fetches them (the registry client, which should stop
 * reading past `size`). Layers larger than MAX_SIMPLESIGNING_PAYLOAD are not fetched.
 */
export type LayerSource =
  ReadonlyMap<string, Uint8Array> | ((digest: string, size: number) => Promise<Uint8Array>);

export interface CosignSignatureInput {
  /** The manifest tagged `sha256-<hex>.sig`: its bytes, or the parsed JSON. */
  manifest: Uint8Array | string | object;
  layers: LayerSource;
  /** The digest being promoted, `sha256:<hex>`: each payload must name exactly this one. */
  digest: string;
}

interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

/**
 * Verifies cosign signatures in the `.sig` tag scheme: each layer is a simplesigning payload
 * whose annotation holds a base64 DER ECDSA signature of the exact layer bytes. Key-based layers
 * are verified with the policy's keys; layers with certificate annotations are keyless and are
 * verified against the trusted root, the policy's identities and (when required) the Rekor bundle
 * annotation. A signature counts only when its payload names the promoted digest.
 */
export async function verifyCosignSimpleSigning(
  input: CosignSignatureInput,
  trustInput: TrustInput,
): Promise<SignatureVerification> {
  const required = requiredSigners(trustInput);
  if (!DIGEST.test(input.digest))
    return signatureVerdict([], required, ['the artifact digest is not sha256:<hex>']);
  const compiled = compileTrust(trustInput);
  if (!compiled.ok) return signatureVerdict([], required, [compiled.error]);
  const layers = signatureLayers(input.manifest);
  if (typeof layers === 'string') return signatureVerdict([], required, [`the signature manifest ${layers}`]);

  const findings: TrustFinding[] = [];
  const errors: string[] = [];
  for (const [index, layer] of layers.entries()) {
    if (layer.size > MAX_SIMPLESIGNING_PAYLOAD || layer.size < 0) {
      findings.push(
        finding(index, layer.digest, null, TrustReason.Malformed, 'the layer is too large for a payload'),
      );
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readLayer(input.layers, layer);
    } catch (e) {
      errors.push(
        `signature layer #${index} could not be fetched: ${e instanceof Error ? e.message : 'unknown error'}`,
      );
      continue;
    }
    findings.push(verifyLayer(index, layer, bytes, input.digest, compiled.trust));
  }
  return signatureVerdict(findings, required, errors, compiled.trust.ignored);
}

async function readLayer(source: LayerSource, layer: LayerDescriptor): Promise<Buffer> {
  const bytes =
    typeof source === 'function' ? await source(layer.digest, layer.size) : source.get(layer.digest);
  if (bytes === undefined) throw new Error(`no bytes for ${layer.digest}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function signatureLayers(manifest: CosignSignatureInput['manifest']): LayerDescriptor[] | string {
  let value: unknown = manifest;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      return 'is not JSON';
    }
  }
  const layers = (value as { layers?: unknown } | null)?.layers;
  if (typeof value !== 'object' || value === null || !Array.isArray(layers)) return 'has no layers';
  if (layers.length > MAX_SIGNATURE_LAYERS) return `has more than ${MAX_SIGNATURE_LAYERS} layers`;
  const out: LayerDescriptor[] = [];
  for (const l of layers as unknown[]) {
    const d = l as Partial<LayerDescriptor> | null;
    if (
      typeof d !== 'object' ||
      d === null ||
      typeof d.mediaType !== 'string' ||
      typeof d.digest !== 'string' ||
      typeof d.size !== 'number'
    ) {
      return 'has a malformed layer descriptor';
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.annotations ?? {})) if (typeof v === 'string') annotations[k] = v;
    out.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations });
  }
  return out;
}

function verifyLayer(
  index: number,
  layer: LayerDescriptor,
  bytes: Buffer,
  digest: string,
  trust: Parameters<typeof verifyBundleSignature>[2],
): TrustFinding {
  const keyless = layer.annotations[COSIGN_CERTIFICATE] !== undefined;
  const form = keyless ? SignatureForm.CosignKeyless : SignatureForm.CosignKey;
  const at = (reason: TrustReason, detail: string, extra: Partial<TrustFinding> = {}): TrustFinding =>
    finding(index, layer.digest, form, reason, detail, extra);

  if (layer.mediaType !== SIMPLESIGNING_MEDIA_TYPE) {
    return at(
      TrustReason.WrongType,
      `layer media type ${layer.mediaType.slice(0, 100)} is not a simplesigning payload`,
    );
  }
  if (!DIGEST.test(layer.digest)) return at(TrustReason.Malformed, 'the layer digest is not sha256:<hex>');
  if (`sha256:${sha256Hex(bytes)}` !== layer.digest || bytes.length !== layer.size) {
    return at(TrustReason.TamperedPayload, 'the payload bytes do not match the layer digest in the manifest');
  }
  const signature = layer.annotations[COSIGN_SIGNATURE];
  if (signature === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) {
    return at(TrustReason.Malformed, `no base64 ${COSIGN_SIGNATURE} annotation`);
  }

  const messageSignature = { digest: Buffer.from(sha256Hex(bytes), 'hex'), signature };
  const bundle: Bundle | string = keyless
    ? bundleFromCosignAnnotations({ messageSignature }, layer.annotations)
    : parseBundle({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
        messageSignature: {
          messageDigest: { algorithm: 'SHA2_256', digest: messageSignature.digest.toString('base64') },
          signature,
        },
      });
  if (typeof bundle === 'string') return at(TrustReason.Malformed, bundle);

  const outcome = verifyBundleSignature(bundle, bytes, trust, {
    key: SignatureForm.CosignKey,
    keyless: SignatureForm.CosignKeyless,
  });
  const { reason, detail, form: _form, ...who } = outcome;
  if (reason !== TrustReason.Verified) return at(reason, detail, who);

  const payload = simpleSigningPayload(bytes);
  if (typeof payload === 'string') return at(TrustReason.Malformed, payload, who);
  if (payload.type !== COSIGN_SIGNATURE_TYPE) {
    return at(
      TrustReason.WrongType,
      `payload type is "${payload.type.slice(0, 100)}", not a cosign image signature`,
      who,
    );
  }
  if (payload.digest.toLowerCase() !== digest) {
    return at(
      TrustReason.DigestMismatch,
      `the signed payload names ${payload.digest.slice(0, 80)}, not ${digest}`,
      who,
    );
  }
  return at(TrustReason.Verified, `${detail}; signs ${digest}`, who);
}

function simpleSigningPayload(bytes: Buffer): { type: string; digest: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'the signed payload is not JSON';
  }
  const critical = (
    value as { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } } }
  )?.critical;
  const type = critical?.type;
  const digest = critical?.image?.['docker-manifest-digest'];
  if (typeof type !== 'string' || typeof digest !== 'string') {
    return 'the signed payload has no critical.type or critical.image.docker-manifest-digest';
  }
  return { type, digest };
}
