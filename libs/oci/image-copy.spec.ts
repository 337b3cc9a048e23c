import { copyImage } from './image-copy';
import { type RegistryClient } from './registry-client';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const IMAGE = digest('a');
const SIGNATURE = digest('5');
const ATTESTATION = digest('7');

/** An image manifest with one layer per digest given (their blobs are all in both registries). */
const manifest = (layers: string[]) => {
  const json = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('c'), size: 2 },
    layers: layers.map((d) => ({ mediaType: 'application/octet-stream', digest: d, size: 1 })),
  };
  return { json, bytes: Buffer.from(JSON.stringify(json)), mediaType: OCI_MANIFEST };
};

/**
 * A source holding the image and, under cosign's tags, what `evidence` names; a target holding
 * every blob. Calls are recorded in order.
 */
function registries(evidence: { sig?: boolean; att?: boolean }) {
  const calls: string[] = [];
  const manifests: Record<string, ReturnType<typeof manifest>> = {
    [IMAGE]: manifest([digest('1')]),
    [SIGNATURE]: manifest([digest('2')]),
    [ATTESTATION]: manifest([digest('3')]),
  };
  const tags: Record<string, string> = {};
  if (evidence.sig) tags[`sha256-${'a'.repeat(64)}.sig`] = SIGNATURE;
  if (evidence.att) tags[`sha256-${'a'.repeat(64)}.att`] = ATTESTATION;
  const source = {
    host: 'staging',
    getManifest: async (_repo: string, ref: string) => {
      const d = tags[ref] ?? ref;
      return { ...manifests[d], digest: d };
    },
    headManifest: async (_repo: string, ref: string) => (tags[ref] ? { digest: tags[ref] } : null),
    referrers: async () => ({ source: 'tag-schema', manifests: [] }),
    tagSchemeManifest: async (_repo: string, _d: string, suffix: string) => {
      const d = tags[`sha256-${'a'.repeat(64)}.${suffix}`];
      return d ? { ...manifests[d], digest: d } : null;
    },
  };
  const target = {
    host: 'prod',
    authorize: async () => undefined,
    headManifest: async () => null,
    blobExists: async () => true,
    putManifest: async (_repo: string, ref: string) => (calls.push(`put ${ref.slice(0, 10)}`), ref),
  };
  return {
    source: { client: source as unknown as RegistryClient, repository: 'acme/app' },
    target: { client: target as unknown as RegistryClient, repository: 'prod/acme/app' },
    calls,
  };
}

describe(copyImage.name, () => {
  it('copies the image with its signatures and attestations, the image first', async () => {
    const { source, target, calls } = registries({ sig: true, att: true });
    const result = await copyImage(source, target, IMAGE);
    expect(calls).toEqual([
      `put ${IMAGE.slice(0, 10)}`,
      `put ${SIGNATURE.slice(0, 10)}`,
      'put sha256-aaa',
      `put ${ATTESTATION.slice(0, 10)}`,
    ]);
    expect(result.manifest).toMatchObject({ digest: IMAGE, mediaType: OCI_MANIFEST });
    expect(result.attestationLayers.map((l) => l.digest)).toEqual([digest('3')]);
    expect(result.stats).toMatchObject({ manifests: 3, blobsPresent: 6 });
  });

  it('writes only the image when the source holds no evidence', async () => {
    const { source, target, calls } = registries({});
    const result = await copyImage(source, target, IMAGE);
    expect(calls).toEqual([`put ${IMAGE.slice(0, 10)}`]);
    expect(result.attestationLayers).toEqual([]);
  });
});
