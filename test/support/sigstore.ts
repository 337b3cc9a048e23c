// Test helpers that produce real signature material: ECDSA P-256 keys, cosign `.sig` manifests
// (simplesigning payloads, key-based and keyless), in-toto attestations in DSSE envelopes and
// Sigstore bundles. Keyless material comes from @sigstore/mock's Fulcio and Rekor handlers served
// over node:http on loopback, signed by @sigstore/sign's FulcioSigner and RekorWitness; the trusted
// root is built from the mock's keys. No TSA: the mock's timestamps are sometimes refused by
// @sigstore/core (trailing zeros trimmed), and the Rekor SET gives the signing time.
import { type Bundle, bundleToJSON, envelopeToJSON } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } from '@sigstore/mock';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signer,
  type Witness,
} from '@sigstore/sign';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

export const sha256 = (data: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** sha256 of the DER SPKI, hex (as SigningKey names keys). */
  keyId: string;
}

export function generateTestKeyPair(): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex'),
  };
}

/** A small, valid-looking OCI image manifest and its digest: the artifact being promoted. */
export function testImage(name = 'app'): { manifest: Buffer; digest: string } {
  const layer = randomBytes(16).toString('hex');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(`${name}-config`),
        size: 2,
      },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: 32 }],
    }),
  );
  return { manifest, digest: sha256(manifest) };
}

/** ECDSA P-256/SHA-256 over the bytes, DER, base64: the cosign signature annotation. */
export const signBytes = (bytes: Uint8Array, key: TestKeyPair): string =>
  sign('sha256', bytes, key.privateKey).toString('base64');

// --- cosign `.sig` tag scheme ---------------------------------------------------------------

export const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** The simplesigning payload cosign and containers/image sign. */
export function simpleSigningPayload(
  digest: string,
  options: { reference?: string; type?: string } = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': options.reference ?? 'registry.test/app' },
        image: { 'docker-manifest-digest': digest },
        type: options.type ?? 'cosign container image signature',
      },
      optional: { creator: 'airlock tests' },
    }),
  );
}

/** One layer of a `.sig` manifest: the payload bytes and the layer's annotations. */
export interface CosignLayer {
  payload: Buffer;
  annotations: Record<string, string>;
}

export function keySignedLayer(
  digest: string,
  key: TestKeyPair,
  options: { reference?: string } = {},
): CosignLayer {
  const payload = simpleSigningPayload(digest, options);
  return { payload, annotations: { 'dev.cosignproject.cosign/signature': signBytes(payload, key) } };
}

export interface CosignSignatureManifest {
  manifest: Record<string, unknown>;
  manifestBytes: Buffer;
  /** Blobs by digest: the config and every layer. */
  blobs: Map<string, Buffer>;
}

/** The OCI manifest tagged `sha256-<hex>.sig`, byte-compatible with what containers/image writes. */
export function cosignSignatureManifest(layers: CosignLayer[]): CosignSignatureManifest {
  const blobs = new Map<string, Buffer>();
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.payload)) },
    }),
  );
  blobs.set(sha256(config), config);
  for (const l of layers) blobs.set(sha256(l.payload), l.payload);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      size: config.length,
      digest: sha256(config),
    },
    layers: layers.map((l) => ({
      mediaType: SIMPLESIGNING,
      size: l.payload.length,
      digest: sha256(l.payload),
      annotations: l.annotations,
    })),
  };
  return { manifest, manifestBytes: Buffer.from(JSON.stringify(manifest)), blobs };
}

// --- in-toto statements ---------------------------------------------------------------------

export function inTotoStatement(digest: string, predicateType: string, predicate: object): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'registry.test/app', digest: { sha256: digest.replace(/^sha256:/, '') } }],
      predicateType,
      predicate,
    }),
  );
}

export interface ProvenanceOptions {
  builderId?: string;
  /** e.g. https://github.com/org/app */
  repository?: string;
  ref?: string;
  commit?: string;
}

export const GITHUB_BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0';

/** SLSA provenance v1 in the shape GitHub Actions' builders write. */
export function slsaProvenanceV1(digest: string, o: ProvenanceOptions = {}): Buffer {
  const repository = o.repository ?? 'https://github.com/org/app';
  const ref = o.ref ?? 'refs/heads/main';
  return inTotoStatement(digest, 'https://slsa.dev/provenance/v1', {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { workflow: { ref, repository, path: '.github/workflows/release.yml' } },
      internalParameters: { github: { event_name: 'push' } },
      resolvedDependencies: [
        { uri: `git+${repository}@${ref}`, digest: { gitCommit: o.commit ?? 'a'.repeat(40) } },
      ],
    },
    runDetails: {
      builder: { id: o.builderId ?? GITHUB_BUILDER },
      metadata: { invocationId: 'https://github.com/org/app/actions/runs/1/attempts/1' },
    },
  });
}

/** SLSA provenance v0.2, minimal. */
export function slsaProvenanceV02(digest: string, o: ProvenanceOptions = {}): Buffer {
  return inTotoStatement(digest, 'https://slsa.dev/provenance/v0.2', {
    builder: { id: o.builderId ?? GITHUB_BUILDER },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
    invocation: {
      configSource: {
        uri: `git+${o.repository ?? 'https://github.com/org/app'}@${o.ref ?? 'refs/heads/main'}`,
        digest: { sha1: o.commit ?? 'a'.repeat(40) },
        entryPoint: '.github/workflows/release.yml',
      },
    },
  });
}

export function spdxSbom(digest: string): Buffer {
  return inTotoStatement(digest, 'https://spdx.dev/Document', {
    spdxVersion: 'SPDX-2.3',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'app',
    packages: [{ SPDXID: 'SPDXRef-Package-zlib', name: 'zlib', versionInfo: '1.3.1' }],
  });
}

export function cycloneDxSbom(digest: string): Buffer {
  return inTotoStatement(digest, 'https://cyclonedx.org/bom', {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    components: [{ type: 'library', name: 'zlib', version: '1.3.1' }],
  });
}

// --- DSSE and bundles signed with a local key -----------------------------------------------

const IN_TOTO = 'application/vnd.in-toto+json';

/** DSSE pre-authentication encoding: what a DSSE signature signs (Sigstore's own, as the verifiers use). */
export const pae = dsse.preAuthEncoding;

/** A bare DSSE envelope (cosign `.att` layer content) signed by each key. */
export function keyDsseEnvelope(
  statement: Buffer,
  keys: TestKeyPair[],
  options: { keyid?: (k: TestKeyPair) => string; payloadType?: string } = {},
): Record<string, unknown> {
  const payloadType = options.payloadType ?? IN_TOTO;
  return {
    payloadType,
    payload: statement.toString('base64'),
    signatures: keys.map((k) => ({
      keyid: options.keyid?.(k) ?? '',
      sig: signBytes(pae(payloadType, statement), k),
    })),
  };
}

/** A @sigstore/sign Signer with a local key: bundles carry a public-key hint. */
export function localKeySigner(key: TestKeyPair, hint: string): Signer {
  return {
    sign: async (data: Buffer) => ({
      signature: sign('sha256', data, key.privateKey),
      key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint },
    }),
  };
}

/** A key-based DSSE bundle (v0.3) of an in-toto statement. */
export async function keyDsseBundle(statement: Buffer, key: TestKeyPair, hint = 'release'): Promise<object> {
  const bundle = await new DSSEBundleBuilder({ signer: localKeySigner(key, hint), witnesses: [] }).create({
    data: statement,
    type: IN_TOTO,
  });
  return bundleToJSON(bundle);
}

/** A key-based message-signature bundle over the bytes (an image manifest). */
export async function keyMessageBundle(data: Buffer, key: TestKeyPair, hint = 'release'): Promise<object> {
  const bundle = await new MessageSignatureBundleBuilder({
    signer: localKeySigner(key, hint),
    witnesses: [],
  }).create({
    data,
  });
  return bundleToJSON(bundle);
}

// --- keyless: mock Fulcio and Rekor on loopback ---------------------------------------------

/** An unsigned JWT: the mock Fulcio only decodes it. `sub` → URI SAN, `iss` → issuer extension. */
export function identityToken(claims: Record<string, unknown>): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'sigstore', ...claims })}.`;
}

export interface KeylessIdentity {
  /** Becomes the certificate's SAN, e.g. a GitHub workflow URI. */
  sub: string;
  iss: string;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const WORKFLOW_IDENTITY: KeylessIdentity = {
  sub: 'https://github.com/org/app/.github/workflows/release.yml@refs/heads/main',
  iss: GITHUB_ISSUER,
};

export interface KeylessOptions {
  /** Log the signature in the mock Rekor (default true). */
  tlog?: boolean;
}

type Handler = ReturnType<typeof fulcioHandler>;

const der = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });
const b64 = (b: ArrayBufferView): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const p256 = (): { publicKey: KeyObject; privateKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

/**
 * A Sigstore instance of its own: mock Fulcio (with a CT log) and mock Rekor v1 served on a
 * loopback port. Start two for an "untrusted CA": only `trustedRoot()` of one is trusted.
 */
export class MockSigstore {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly root: object,
  ) {}

  static async start(): Promise<MockSigstore> {
    const handlers: Handler[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const handler = handlers.find((h) => h.path === req.url && req.method === 'POST');
        if (!handler) {
          res.writeHead(404).end();
          return;
        }
        handler
          .fn(Buffer.concat(chunks).toString('utf8'))
          .then((r) => {
            res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
            res.end(r.response);
          })
          .catch(() => res.writeHead(500).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const caKeys = p256();
    const ctKeys = p256();
    const tlogKeys = p256();
    const ctlog = await initializeCTLog(ctKeys);
    const ca = await initializeCA(caKeys, ctlog);
    // The checkpoint names the log by host: initialise it with the URL it is served at.
    const tlog = await initializeTLog(url, tlogKeys);
    handlers.push(fulcioHandler(ca), rekorHandler(tlog));

    const validFor = { start: '2000-01-01T00:00:00Z' };
    const logInstance = (keys: { publicKey: KeyObject }) => ({
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(der(keys.publicKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: createHash('sha256').update(der(keys.publicKey)).digest('base64') },
    });
    const root = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [logInstance(tlogKeys)],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
          uri: url,
          certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
          validFor,
        },
      ],
      ctlogs: [logInstance(ctKeys)],
      timestampAuthorities: [],
    };
    return new MockSigstore(server, url, root);
  }

  /** trusted_root.json for this instance (a fresh copy). */
  trustedRoot(): Record<string, unknown> {
    return structuredClone(this.root) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private signer(identity: KeylessIdentity): FulcioSigner {
    return new FulcioSigner({
      fulcioBaseURL: this.url,
      identityProvider: { getToken: async () => identityToken({ ...identity }) },
      retry: 0,
    });
  }

  private witnesses(options: KeylessOptions, entryType?: 'intoto'): Witness[] {
    return options.tlog === false ? [] : [new RekorWitness({ rekorBaseURL: this.url, entryType, retry: 0 })];
  }

  /** A keyless message-signature bundle (v0.2) over the bytes, logged as hashedrekord. */
  async messageBundle(
    data: Buffer,
    identity: KeylessIdentity,
    options: KeylessOptions = {},
  ): Promise<Bundle> {
    return new MessageSignatureBundleBuilder({
      signer: this.signer(identity),
      witnesses: this.witnesses(options),
    }).create({
      data,
    });
  }

  /**
   * A keyless DSSE bundle (v0.3). Logged as an `intoto` entry: the mock Rekor stores `dsse`
   * entries in a form that does not verify.
   */
  async dsseBundle(
    statement: Buffer,
    identity: KeylessIdentity,
    options: KeylessOptions = {},
  ): Promise<Bundle> {
    return new DSSEBundleBuilder({
      signer: this.signer(identity),
      witnesses: this.witnesses(options, 'intoto'),
    }).create({ data: statement, type: IN_TOTO });
  }

  /** A keyless cosign `.sig` layer: signature, certificate, chain and Rekor bundle annotations. */
  async keylessLayer(
    digest: string,
    identity: KeylessIdentity,
    options: KeylessOptions = {},
  ): Promise<CosignLayer> {
    const payload = simpleSigningPayload(digest);
    const bundle = await this.messageBundle(payload, identity, options);
    if (bundle.content.$case !== 'messageSignature') throw new Error('expected a message signature');
    return {
      payload,
      annotations: {
        'dev.cosignproject.cosign/signature': b64(bundle.content.messageSignature.signature),
        ...this.certificateAnnotations(bundle),
      },
    };
  }

  /** A keyless cosign `.att` layer: the bare envelope and its certificate and Rekor annotations. */
  async keylessAttestationLayer(
    statement: Buffer,
    identity: KeylessIdentity,
    options: KeylessOptions = {},
  ): Promise<{ envelope: object; annotations: Record<string, string> }> {
    const bundle = await this.dsseBundle(statement, identity, options);
    if (bundle.content.$case !== 'dsseEnvelope') throw new Error('expected a DSSE envelope');
    return {
      envelope: envelopeToJSON(bundle.content.dsseEnvelope),
      annotations: this.certificateAnnotations(bundle),
    };
  }

  private certificateAnnotations(bundle: Bundle): Record<string, string> {
    const material = bundle.verificationMaterial.content;
    const certificates =
      material.$case === 'x509CertificateChain'
        ? material.x509CertificateChain.certificates
        : material.$case === 'certificate'
          ? [material.certificate]
          : [];
    const pem = (c: { rawBytes: Buffer }) =>
      `-----BEGIN CERTIFICATE-----\n${b64(c.rawBytes).replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    const [leaf, ...chain] = certificates;
    const annotations: Record<string, string> = { 'dev.sigstore.cosign/certificate': pem(leaf) };
    const caCert = (
      this.root as {
        certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
      }
    ).certificateAuthorities[0].certChain.certificates[0].rawBytes;
    annotations['dev.sigstore.cosign/chain'] = (
      chain.length ? chain : [{ rawBytes: Buffer.from(caCert, 'base64') }]
    )
      .map(pem)
      .join('');
    const entry = bundle.verificationMaterial.tlogEntries[0];
    if (entry) {
      annotations['dev.sigstore.cosign/bundle'] = JSON.stringify({
        SignedEntryTimestamp: b64(entry.inclusionPromise?.signedEntryTimestamp ?? Buffer.alloc(0)),
        Payload: {
          body: b64(entry.canonicalizedBody),
          integratedTime: Number(entry.integratedTime),
          logIndex: Number(entry.logIndex),
          logID: Buffer.from(entry.logId.keyId).toString('hex'),
        },
      });
    }
    return annotations;
  }
}

/** Serialised JSON of a bundle, as stored in a registry. */
export const bundleJson = (bundle: Bundle): object => bundleToJSON(bundle);
