// Media types Airlock reads and writes, and the shapes of the JSON documents behind them.

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  OciLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  DockerLayerTarGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** The empty descriptor's config (`{}`), OCI 1.1 artifacts. */
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  /** One layer per cosign key-based signature (`sha256-<hex>.sig` tags). */
  CosignSimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  SigstoreBundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
} as const;

/** The manifest media types Airlock accepts; anything else (schema 1, unknown) is refused. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

/** Accept header for manifest requests: every type above, so registries never down-convert. */
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor: what a manifest says about another blob or manifest. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  data?: string;
}

/** OCI image manifest or Docker v2 schema 2 manifest (same shape). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** OCI image index or Docker manifest list (same shape). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

export function isImageIndex(manifest: Manifest): manifest is ImageIndex {
  return Array.isArray((manifest as Partial<ImageIndex>).manifests);
}
