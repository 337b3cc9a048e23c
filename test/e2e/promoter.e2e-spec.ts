import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { signingKeyId } from '../../libs/domain/signing-key-set';
import { type ImageManifest, type RegistryClient } from '../../libs/oci';
import {
  addToReferrersTagIndex,
  cosignPayload,
  cosignSign,
  pushArtifactManifest,
  pushCosignSignatures,
  pushImage,
  pushIndex,
  type PushedImage,
} from '../support/oci-images';
import { PROMOTER_CLIENTS, PromoterRig, type CredentialProfile } from '../support/promoter-rig';
import { childProcesses, running } from '../support/process-tree';
import { Rig } from '../support/rig';
import { generateTestKeyPair, inTotoStatement, keyDsseEnvelope, pae } from '../support/sigstore';

/**
 * The promoter end to end: a CI request for an image in a staging registry with token auth,
 * checks, approvals, then the built worker copies the image (or index), its signatures and
 * Airlock's own attestation to a production registry with token auth, getting short-lived tokens
 * from an OIDC issuer by client credentials. Refusals end `failed` with a reason and can be retried
 * without new approvals; a worker killed mid-copy leaves exactly one promoted image; tokens and
 * secrets never reach logs, Redis or the database.
 */
describe('promoter', () => {
  const REPO = 'acme/app';
  const TARGET_REPO = 'prod/acme/app';
  const PROMOTION_PREDICATE = 'https://airlock.dev/attestations/promotion/v1';
  const VSA_PREDICATE = 'https://slsa.dev/verification_summary/v1';
  const DSSE = 'application/vnd.dsse.envelope.v1+json';
  const PROVENANCE = 'https://slsa.dev/provenance/v1';
  const release = generateTestKeyPair();
  const uid = (): string => randomBytes(3).toString('hex');
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  let rig: Rig;
  let pr: PromoterRig;
  /** Secrets tests wrote to secret files, besides the clients' real ones (for the leak check). */
  const retiredSecrets: string[] = [];
  let target: RegistryClient;
  let source: RegistryClient;

  beforeAll(async () => {
    pr = await PromoterRig.start();
    rig = await Rig.start({
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      WORKER_QUEUES: 'checks,promote,maintenance',
      // Long enough that a busy machine does not delay lock renewal past it: each spurious stall
      // counts towards maxStalledCount, and the kill -9 test spends ten of them on purpose.
      WORKER_LOCK_DURATION_MS: '10000',
      LOG_LEVEL: 'debug',
      WORKER_JOB_ATTEMPTS: '3',
      WORKER_RETRY_DELAY_MS: '200',
    });
    // Credential profiles may name only a trusted issuer.
    await rig.trustIssuer(pr.issuer);
    target = pr.client(pr.target);
    source = pr.client(pr.source);
  }, 300_000);

  afterAll(async () => {
    target?.close();
    source?.close();
    await rig?.stop();
    await pr?.stop();
  });

  // --- Fixtures -------------------------------------------------------------------------------

  const signaturesPolicy = { keys: [{ name: 'release', publicKey: release.publicKeyPem }] };

  /** An environment over the rig's registries, with credentials unless told otherwise. */
  async function environment(
    policy: Record<string, unknown> = {},
    options: {
      target?: CredentialProfile | null;
      sources?: CredentialProfile | null;
      /** Another registry and repository for the target (with the target credentials). */
      targetMapping?: { registry: string; repository: string };
    } = {},
  ): Promise<string> {
    const name = `promo-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: pr.sources(['acme/*'], options.sources === undefined ? pr.profile() : options.sources),
      target: {
        ...pr.targetMapping(options.target === undefined ? pr.profile() : options.target),
        ...options.targetMapping,
      },
    });
    const v = await rig.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 0 }, ...policy } },
    });
    if (v.status !== 201) throw new Error(`policy: ${v.status} ${JSON.stringify(v.body)}`);
    const a = await rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    if (a.status !== 200) throw new Error(`activate: ${a.status} ${JSON.stringify(a.body)}`);
    return name;
  }

  /** Pushes an image to the source registry directly (Airlock's proxy does not see it). */
  async function sourceImage(
    tag: string,
    options: { layers?: number; layerSize?: number; gzipLevel?: number } = {},
  ): Promise<PushedImage> {
    return pushImage(pr.source.directHost, REPO, tag, {
      layers: options.layers ?? 2,
      layerSize: options.layerSize ?? 64 * 1024,
      gzipLevel: options.gzipLevel,
      auth: await pr.pushAuth(pr.source, REPO),
    });
  }

  /** A cosign key-based `.sig` for the image in the source registry; returns the .sig manifest digest. */
  async function sign(digest: string): Promise<string> {
    const payload = cosignPayload(`${pr.source.host}/${REPO}`, digest, { creator: 'airlock e2e' });
    const pushed = await pushCosignSignatures(
      pr.source.directHost,
      REPO,
      digest,
      [{ payload, signature: cosignSign(payload, release.privateKey) }],
      await pr.pushAuth(pr.source, REPO),
    );
    return pushed.digest;
  }

  const sourceRef = (reference: string): string =>
    `${pr.source.host}/${REPO}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

  async function request(artifact: string, env: string): Promise<string> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact, environment: env },
    });
    if (res.status !== 201) throw new Error(`request: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  const terminal = ['promoted', 'failed', 'rejected', 'cancelled', 'expired'];

  /** Waits for `status`; a different terminal status fails at once with the promotion's reasons. */
  async function waitFor(id: string, status: string, timeoutMs = 60_000): Promise<any> {
    const p = await rig.waitForStatus(id, [status, ...terminal], timeoutMs);
    if (p.status !== status) {
      throw new Error(
        `promotion ${id} is ${p.status}, not ${status}: ${JSON.stringify({ reasons: p.reasons, history: p.history })}`,
      );
    }
    return p;
  }

  async function approveTwice(id: string, digest: string): Promise<void> {
    for (const as of ['approver', 'approver2'] as const) {
      const res = await rig.call('POST', `/v1/promotions/${id}/approvals`, {
        as,
        body: { decision: 'approve', digest, comment: 'ship it' },
      });
      expect(res.status).toBe(201);
    }
  }

  /** Everything the promotion says about why it failed. */
  const failure = (p: any): string =>
    [...(p.reasons ?? []), ...(p.history ?? []).map((h: any) => h.reason)].join('\n');

  /** Attempts the worker retried (logged as such) for a promotion: a terminal refusal has none. */
  async function retriedAttempts(id: string): Promise<number> {
    const log = await readFile(
      join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix, 'worker.log'),
      'utf8',
    );
    return log.split('\n').filter((line) => line.includes(id) && line.includes('will retry')).length;
  }

  /** Failed at once, with no retries, and with a reason that matches. */
  async function expectRefused(id: string, reason: RegExp | string): Promise<any> {
    const p = await waitFor(id, 'failed');
    const text = failure(p);
    const explains = typeof reason === 'string' ? text.includes(reason) : reason.test(text);
    const retries = await retriedAttempts(id);
    expect({ reason: text, explains, retries }).toEqual({ reason: text, explains: true, retries: 0 });
    return p;
  }

  const transitions = (p: any): string[] => p.history.map((h: any) => `${h.from}->${h.to}`);

  const count = <T>(items: T[], item: T): number => items.filter((i) => i === item).length;

  async function auditCount(id: string, action: string): Promise<number> {
    const rows = await rig.sql(
      `SELECT count(*)::int AS n FROM (
         SELECT action FROM audit_event WHERE subject_type = 'promotion' AND subject_id = $1
         UNION ALL
         SELECT action FROM audit_pending WHERE subject_type = 'promotion' AND subject_id = $1
       ) a WHERE action = $2`,
      [id, action],
    );
    return rows[0].n as number;
  }

  /** The target's blobs of an image are all there, with the source's sizes. */
  async function expectImageInTarget(image: { manifest: Record<string, any> }): Promise<void> {
    const manifest = image.manifest as ImageManifest;
    for (const d of [manifest.config, ...manifest.layers]) {
      expect({ digest: d.digest, exists: await target.blobExists(TARGET_REPO, d.digest) }).toEqual({
        digest: d.digest,
        exists: true,
      });
    }
  }

  interface AttestationLayer {
    predicateType: string;
    statement: any;
    layerDigest: string;
    bytes: Buffer;
    /** Signed by Airlock's key (every layer Airlock wrote must be). */
    airlock: boolean;
  }

  const AIRLOCK_PREDICATES = [PROMOTION_PREDICATE, VSA_PREDICATE];

  /** Airlock's public key, as the audit checkpoints publish it. */
  async function airlockPublicKey(): Promise<string> {
    const res = await rig.call('GET', '/v1/audit/checkpoints', { as: 'auditor' });
    expect(res.status).toBe(200);
    expect(res.body.publicKey).toContain('BEGIN PUBLIC KEY');
    return res.body.publicKey as string;
  }

  /**
   * The DSSE layers of the target's `sha256-<hex>.att`. Layers with Airlock's predicate types must
   * verify with Airlock's key; others were carried from the source.
   */
  async function attestationsInTarget(
    digest: string,
  ): Promise<{ digest: string; layers: AttestationLayer[] }> {
    const att = await target.tagSchemeManifest(TARGET_REPO, digest, 'att');
    if (att === null) throw new Error(`no ${digest.replace(':', '-')}.att in the target`);
    const publicKey = await airlockPublicKey();
    const layers: AttestationLayer[] = [];
    for (const layer of (att.json as ImageManifest).layers) {
      expect(layer.mediaType).toBe(DSSE);
      const bytes = await target.getBlobBytes(TARGET_REPO, layer.digest, { maxBytes: 4 * 1024 * 1024 });
      const envelope = JSON.parse(bytes.toString('utf8')) as {
        payloadType: string;
        payload: string;
        signatures: { sig: string }[];
      };
      const payload = Buffer.from(envelope.payload, 'base64');
      expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
      const airlock = envelope.signatures.some((sig) =>
        verify('sha256', pae(envelope.payloadType, payload), publicKey, Buffer.from(sig.sig, 'base64')),
      );
      const statement = JSON.parse(payload.toString('utf8'));
      expect(layer.annotations?.predicateType).toBe(statement.predicateType);
      if (AIRLOCK_PREDICATES.includes(statement.predicateType)) {
        expect({ layer: layer.digest, predicateType: statement.predicateType, airlock }).toEqual({
          layer: layer.digest,
          predicateType: statement.predicateType,
          airlock: true,
        });
      }
      layers.push({
        predicateType: statement.predicateType,
        statement,
        layerDigest: layer.digest,
        bytes,
        airlock,
      });
    }
    return { digest: att.digest, layers };
  }

  function expectStatementAbout(statement: any, digest: string): void {
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.subject).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ digest: { sha256: digest.slice('sha256:'.length) } }),
      ]),
    );
  }

  // --- The rig itself -------------------------------------------------------------------------

  it('(rig) registries accept only tokens of the issuer, for their own service and scope', async () => {
    const tag = `rig-${uid()}`;
    const image = await sourceImage(tag);
    const viaProxy = pr.client(pr.source, { direct: false });
    try {
      expect((await viaProxy.getManifest(REPO, tag)).digest).toBe(image.digest);
    } finally {
      viaProxy.close();
    }
    const manifestUrl = `${pr.source.registry.url}/v2/${REPO}/manifests/${tag}`;
    const anonymous = await fetch(manifestUrl);
    await anonymous.body?.cancel();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain(`service="${pr.source.service}"`);
    const asRead = async (token: string): Promise<number> => {
      const res = await fetch(manifestUrl, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      await res.body?.cancel();
      return res.status;
    };
    const pull = `repository:${REPO}:pull`;
    expect(await asRead(await pr.token(pr.source, pull))).toBe(200);
    expect(await asRead(await pr.token(pr.target, pull))).toBe(401); // another audience
    expect(await asRead(await pr.token(pr.source, 'repository:acme/other:pull'))).toBe(401);
    expect(await asRead(await pr.token(pr.source, pull, 'readOnly'))).toBe(200);
    await expect(pr.token(pr.target, pull, 'stagingOnly')).rejects.toThrow();
    const readOnlyPush = await pr.token(pr.target, `repository:${TARGET_REPO}:pull,push`, 'readOnly');
    expect(jwtPayload(readOnlyPush)?.access ?? []).toEqual([]);
  });

  // --- The whole path -------------------------------------------------------------------------

  it('promotes a signed image: CI request, checks, two approvals, copy, signature and attestation', async () => {
    const tag = `v1-${uid()}`;
    const image = await sourceImage(tag);
    const sigDigest = await sign(image.digest);
    // Evidence that travels with the image: someone's provenance in cosign's .att, and an SBOM
    // attached as a referrer (in the sha256-<hex> tag-schema index: distribution 2.8 has no API).
    const auth = await pr.pushAuth(pr.source, REPO);
    const provenance = inTotoStatement(image.digest, PROVENANCE, { buildDefinition: { buildType: 'e2e' } });
    const provenanceLayer = Buffer.from(JSON.stringify(keyDsseEnvelope(provenance, [release])));
    await pushArtifactManifest(pr.source.directHost, REPO, `${image.digest.replace(':', '-')}.att`, {
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', bytes: Buffer.from('{}') },
      layers: [{ mediaType: DSSE, bytes: provenanceLayer, annotations: { predicateType: PROVENANCE } }],
      auth,
    });
    const sbom = await pushArtifactManifest(pr.source.directHost, REPO, `sbom-${uid()}`, {
      artifactType: 'application/spdx+json',
      layers: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }],
      subject: {
        mediaType: image.manifest.mediaType,
        digest: image.digest,
        size: image.manifestBytes.length,
      },
      auth,
    });
    await addToReferrersTagIndex(pr.source.directHost, REPO, image.digest, sbom.descriptor, auth);
    const env = await environment({ approvals: { required: 2 }, signatures: signaturesPolicy });
    pr.resetObservations();

    const id = await request(sourceRef(tag), env);
    const awaiting = await waitFor(id, 'awaiting_approval');
    expect(awaiting.digest).toBe(image.digest);
    expect(awaiting.tag).toBe(tag);
    expect(awaiting.checks.find((c: any) => c.kind === 'signatures')).toMatchObject({ status: 'pass' });
    await approveTwice(id, image.digest);
    const p = await waitFor(id, 'promoted');

    expect(transitions(p)).toEqual([
      'null->received',
      'received->checking',
      'checking->awaiting_approval',
      'awaiting_approval->approved',
      'approved->promoting',
      'promoting->promoted',
    ]);
    expect(JSON.stringify(p.target)).toContain(`${pr.target.host}/${TARGET_REPO}`);

    // The image, under its tag, byte for byte; every blob; the signature.
    const copied = await target.getManifest(TARGET_REPO, tag);
    expect(copied.digest).toBe(image.digest);
    expect(copied.bytes.equals(image.manifestBytes)).toBe(true);
    await expectImageInTarget(image);
    const sig = await target.tagSchemeManifest(TARGET_REPO, image.digest, 'sig');
    expect(sig?.digest).toBe(sigDigest);

    // Airlock's attestation: a promotion statement and a SLSA VSA, signed with Airlock's key.
    const referrers = await target.referrers(TARGET_REPO, image.digest);
    expect(referrers.manifests.map((m) => m.digest)).toEqual([sbom.digest]);
    expect((await target.getManifest(TARGET_REPO, sbom.digest)).digest).toBe(sbom.digest);

    // Airlock's attestation: a promotion statement and a SLSA VSA, signed with Airlock's key,
    // beside the provenance carried from the source.
    const att = await attestationsInTarget(image.digest);
    const types = att.layers.map((l) => l.predicateType);
    expect([...types].sort()).toEqual([PROVENANCE, PROMOTION_PREDICATE, VSA_PREDICATE].sort());
    for (const layer of att.layers) expectStatementAbout(layer.statement, image.digest);
    const carried = att.layers.find((l) => l.predicateType === PROVENANCE)!;
    expect(carried.bytes.equals(provenanceLayer)).toBe(true);
    expect(carried.airlock).toBe(false);
    const promotion = att.layers.find((l) => l.predicateType === PROMOTION_PREDICATE)!.statement;
    expect(JSON.stringify(promotion.predicate)).toContain(id);
    const vsa = att.layers.find((l) => l.predicateType === VSA_PREDICATE)!.statement.predicate;
    expect(vsa).toMatchObject({ verificationResult: 'PASSED', verifier: { id: expect.any(String) } });

    expect(p.attestation).toMatchObject({
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      predicateTypes: expect.arrayContaining([PROMOTION_PREDICATE, VSA_PREDICATE]),
    });
    // The key id of Airlock's key, as GET /v1/keys lists it and the envelopes' keyid names it.
    const airlockKeyId = signingKeyId(createPublicKey(await airlockPublicKey()));
    expect(p.attestation.keyId).toBe(airlockKeyId);
    const envelope = JSON.parse(
      att.layers.find((l) => l.predicateType === PROMOTION_PREDICATE)!.bytes.toString(),
    ) as { signatures: Array<{ keyid: string }> };
    expect(envelope.signatures.map((s) => s.keyid)).toEqual([airlockKeyId]);
    // The attestation's digest names something that is in the target: the .att manifest or a layer.
    expect([att.digest, ...att.layers.map((l) => l.layerDigest)]).toContain(p.attestation.digest);

    // The CLI verifies it from the registry alone, with Airlock's key (and refuses another key).
    const publicKeyFile = join(pr.dir, `airlock-${uid()}.pem`);
    const otherKeyFile = join(pr.dir, `other-${uid()}.pem`);
    const tokenFile = join(pr.dir, `registry-token-${uid()}`);
    await writeFile(publicKeyFile, await airlockPublicKey());
    await writeFile(otherKeyFile, release.publicKeyPem);
    await writeFile(tokenFile, await pr.token(pr.target, `repository:${TARGET_REPO}:pull`));
    const cliRef = `${pr.target.directHost}/${TARGET_REPO}@${image.digest}`;
    const cliArgs = ['--insecure', '--registry-token-file', tokenFile];
    const verified = await cli(['verify-attestation', cliRef, '--public-key', publicKeyFile, ...cliArgs]);
    expect(verified).toMatchObject({ code: 0 });
    const wrongKey = await cli(['verify-attestation', cliRef, '--public-key', otherKeyFile, ...cliArgs]);
    expect(wrongKey).toMatchObject({ code: 7 });

    // Airlock got its tokens from the issuer, and used them only on the registries they were for.
    expect(pr.target.tokens.size).toBeGreaterThan(0);
    for (const token of pr.target.tokens) expect(jwtPayload(token)).toMatchObject({ aud: pr.target.service });
    for (const token of pr.source.tokens) expect(jwtPayload(token)).toMatchObject({ aud: pr.source.service });
    for (const token of pr.target.tokens) {
      expect(jwtPayload(token)).toMatchObject({ iss: pr.issuer, sub: 'airlock-promoter' });
    }
  });

  it('promotes an index with every platform', async () => {
    const tag = `multi-${uid()}`;
    const index = await pushIndex(pr.source.directHost, REPO, tag, ['linux/amd64', 'linux/arm64'], {
      layers: 1,
      layerSize: 32 * 1024,
      auth: await pr.pushAuth(pr.source, REPO),
    });
    const env = await environment();
    const id = await request(sourceRef(tag), env);
    const p = await waitFor(id, 'promoted');
    expect(p.digest).toBe(index.digest);

    const copied = await target.getManifest(TARGET_REPO, tag);
    expect(copied.digest).toBe(index.digest);
    expect(copied.bytes.equals(index.manifestBytes)).toBe(true);
    for (const child of index.children) {
      const manifest = await target.getManifest(TARGET_REPO, child.digest);
      expect(manifest.digest).toBe(child.digest);
      await expectImageInTarget({ manifest: child.image.manifest });
    }
    const att = await attestationsInTarget(index.digest);
    for (const layer of att.layers) expectStatementAbout(layer.statement, index.digest);
  });

  it('scans the source’s layers for secrets in a scan process, with tokens the worker mints', async () => {
    const image = await sourceImage(`scan-${uid()}`);
    const layers = (image.manifest as ImageManifest).layers.map((l) => l.digest);
    const env = await environment({ scans: { secrets: {} } });
    const mark = pr.source.requests.length;
    const p = await waitFor(await request(sourceRef(image.digest), env), 'promoted');
    expect(p.checks.find((c: any) => c.kind === 'secrets')).toMatchObject({
      status: 'pass',
      summary: expect.stringMatching(/^no secrets found in 2 layers \(\d+ files scanned\)$/),
    });
    // The scan process and the copy process each read every layer with a token the worker got from
    // the issuer (neither process holds the client secret; a request without one is answered by
    // the registry's challenge).
    const reads = pr.source.requests.slice(mark).filter((r) => r.method === 'GET' && r.token !== undefined);
    for (const digest of layers)
      expect({ digest, reads: reads.filter((r) => r.path.endsWith(`/blobs/${digest}`)).length }).toEqual({
        digest,
        reads: 2,
      });
    // Kept for the next scan, beside the copy process: each with the lean process's flags.
    const processes = childProcesses(rig.stack.worker!.child.pid!).map((c) => c.command);
    expect(processes.filter((c) => c.includes('registry-child.js scan'))).toEqual([
      expect.stringContaining('--max-semi-space-size=1'),
    ]);
  });

  it('completes without moving blobs when the digest is already in the target', async () => {
    const image = await sourceImage(`again-${uid()}`);
    const first = await request(sourceRef(image.digest), await environment());
    await waitFor(first, 'promoted');

    pr.resetObservations();
    const second = await request(sourceRef(image.digest), await environment());
    const p = await waitFor(second, 'promoted');
    expect(p.digest).toBe(image.digest);
    const imageBlobs = new Set([image.config.digest, ...image.layers.map((l) => l.digest)]);
    const movedToTarget = pr.target.uploads.filter((u) => imageBlobs.has(u.digest));
    expect(movedToTarget).toEqual([]);
    const readFromSource = pr.source.requests.filter(
      (r) => r.method === 'GET' && [...imageBlobs].some((d) => r.path.includes(`/blobs/${d}`)),
    );
    expect(readFromSource).toEqual([]);
    expect((await target.getManifest(TARGET_REPO, image.digest)).digest).toBe(image.digest);
  });

  it('mounts blobs across repositories when the target is the source registry', async () => {
    const tag = `mount-${uid()}`;
    const image = await sourceImage(tag);
    const mirror = `mirror/${REPO}`;
    const env = await environment(
      {},
      { targetMapping: { registry: pr.source.host, repository: 'mirror/{repository}' } },
    );
    pr.resetObservations();
    const p = await waitFor(await request(sourceRef(tag), env), 'promoted');
    expect(p.digest).toBe(image.digest);
    const imageBlobs = [image.config.digest, ...image.layers.map((l) => l.digest)];
    // Each mount, as sent with a token (the first try of each gets the 401 challenge).
    const mounts = pr.source.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.token !== undefined &&
        r.path.startsWith(`/v2/${mirror}/blobs/uploads/`) &&
        r.path.includes('mount='),
    );
    expect(mounts.map((r) => new URL(r.path, 'http://x').searchParams.get('mount')).sort()).toEqual(
      [...imageBlobs].sort(),
    );
    expect(pr.source.uploads.filter((u) => imageBlobs.includes(u.digest))).toEqual([]);
    expect(
      pr.source.requests.filter(
        (r) => r.method === 'GET' && imageBlobs.some((d) => r.path.includes(`/blobs/${d}`)),
      ),
    ).toEqual([]);
    expect((await source.getManifest(mirror, tag)).digest).toBe(image.digest);
    for (const d of imageBlobs) expect(await source.blobExists(mirror, d)).toBe(true);
  });

  // --- Refusals -------------------------------------------------------------------------------

  describe('refuses, failing with a reason', () => {
    it('a target whose service the credential profile does not name (wrong audience)', async () => {
      const tag = `aud-${uid()}`;
      const image = await sourceImage(tag);
      const env = await environment({}, { target: pr.profile({ services: [pr.source.service] }) });
      pr.resetObservations();
      await expectRefused(await request(sourceRef(tag), env), pr.target.service);
      // No token for another audience was ever shown to the target.
      expect(pr.target.requests.filter((r) => r.token !== undefined)).toEqual([]);
      expect(await target.headManifest(TARGET_REPO, tag)).toBeNull();
      expect(await target.headManifest(TARGET_REPO, image.digest)).toBeNull();
    });

    it('a client whose tokens lack push on the target', async () => {
      const tag = `nopush-${uid()}`;
      const image = await sourceImage(tag);
      const env = await environment({}, { target: pr.profile({ client: 'readOnly' }) });
      const p = await expectRefused(
        await request(sourceRef(tag), env),
        /push|denied|unauthori[sz]ed|refused|forbidden|insufficient/i,
      );
      expect(failure(p)).toContain(pr.target.host);
      expect(await target.headManifest(TARGET_REPO, tag)).toBeNull();
      expect(await target.headManifest(TARGET_REPO, image.digest)).toBeNull();
    });

    it('a client the issuer will not give tokens for the target (credential refused)', async () => {
      const tag = `refused-${uid()}`;
      await sourceImage(tag);
      const env = await environment({}, { target: pr.profile({ client: 'stagingOnly' }) });
      const p = await expectRefused(await request(sourceRef(tag), env), /refused|invalid_target/i);
      expect(failure(p)).toContain(PROMOTER_CLIENTS.stagingOnly);
      expect(await target.headManifest(TARGET_REPO, tag)).toBeNull();
    });

    it('a wrong client secret; retried once the secret file is right, promoted without new approvals', async () => {
      const tag = `secret-${uid()}`;
      const image = await sourceImage(tag);
      const secretName = `rotating-${uid()}`;
      const wrong = `wrong-${uid()}-secret`;
      retiredSecrets.push(wrong);
      await pr.writeSecret(secretName, wrong);
      const env = await environment({ approvals: { required: 2 } }, { target: pr.profile({ secretName }) });
      const id = await request(sourceRef(tag), env);
      await waitFor(id, 'awaiting_approval');
      await approveTwice(id, image.digest);
      const failed = await expectRefused(id, /refused|invalid_client/i);
      expect(failure(failed)).toContain(PROMOTER_CLIENTS.promoter);
      expect(failure(failed)).not.toContain(wrong);
      expect(failure(failed)).not.toContain(pr.secretOf('promoter'));

      await pr.writeSecret(secretName, pr.secretOf('promoter'));
      const retried = await retry(id);
      const p = await waitFor(retried, 'promoted');
      expect(p.approvals).toHaveLength(2);
      expect(transitions(p).slice(-4)).toEqual([
        'promoting->failed',
        'failed->approved',
        'approved->promoting',
        'promoting->promoted',
      ]);
      expect((await target.getManifest(TARGET_REPO, tag)).digest).toBe(image.digest);
    });

    it('a tag that already holds a different manifest; retried after fixing, promoted without new approvals', async () => {
      const tag = `conflict-${uid()}`;
      const image = await sourceImage(tag);
      const squatter = await pushImage(pr.target.directHost, TARGET_REPO, tag, {
        auth: await pr.pushAuth(pr.target, TARGET_REPO),
      });
      const env = await environment({ approvals: { required: 2 } });
      const id = await request(sourceRef(tag), env);
      await waitFor(id, 'awaiting_approval');
      await approveTwice(id, image.digest);
      const failed = await expectRefused(id, tag);
      expect(failure(failed)).toContain(squatter.digest);
      // The tag was not moved.
      expect(await target.resolveTag(TARGET_REPO, tag)).toBe(squatter.digest);
      const approvalsBefore = await rig.sql(
        'SELECT count(*)::int AS n FROM approval WHERE promotion_id = $1',
        [id],
      );

      await pr.deleteManifest(pr.target, TARGET_REPO, squatter.digest);
      const p = await waitFor(await retry(id), 'promoted');
      expect(await target.resolveTag(TARGET_REPO, tag)).toBe(image.digest);
      expect(p.approvals).toHaveLength(2);
      expect(await rig.sql('SELECT count(*)::int AS n FROM approval WHERE promotion_id = $1', [id])).toEqual(
        approvalsBefore,
      );
      expect(count(transitions(p), 'promoting->promoted')).toBe(1);
    });
  });

  async function retry(id: string): Promise<string> {
    const res = await rig.call('POST', `/v1/promotions/${id}/retry`, { as: 'admin' });
    if (res.status !== 200 && res.status !== 201 && res.status !== 202) {
      throw new Error(`retry: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return id;
  }

  // --- Crashes --------------------------------------------------------------------------------

  it('survives kill -9 of the worker ten times in the middle of a 200 MB copy: one promoted image', async () => {
    const KILLS = 10;
    const LAYER = 100 * 1024 * 1024;
    const tag = `big-${uid()}`;
    // Stored, not compressed: gzip of 200 MB of random bytes would take most of a minute.
    const image = await sourceImage(tag, { layers: 2, layerSize: LAYER, gzipLevel: 0 });
    const layers = image.layers.map((l) => ({ digest: l.digest, size: l.size }));
    const layerDigests = new Set(layers.map((l) => l.digest));
    // Only the image is kept; the layer bytes are not needed any more.
    const manifestBytes = image.manifestBytes;

    let armed: { threshold: number; sent: number; killed: () => void } | undefined;
    let orphans: number[] = [];
    const killedMidUpload: { digest: string; bytes: number }[] = [];
    pr.target.onUploadData = (upload, chunk) => {
      if (armed === undefined || !layerDigests.has(upload.digest)) return;
      armed.sent += chunk;
      if (armed.sent < armed.threshold) return;
      const pid = rig.stack.worker?.child.pid;
      if (pid !== undefined) {
        // Its copy process (which does the upload) is left to notice that the worker is gone.
        orphans.push(
          ...childProcesses(pid)
            .filter((c) => c.command.includes('registry-child.js copy'))
            .map((c) => c.pid),
        );
        process.kill(pid, 'SIGKILL');
      }
      killedMidUpload.push({ digest: upload.digest, bytes: upload.bytes });
      const { killed } = armed;
      armed = undefined;
      killed();
    };
    /** Arms a kill at a random point of what is still to upload (completed blobs are skipped). */
    const arm = async (): Promise<{ killed: Promise<void> }> => {
      let remaining = 0;
      for (const l of layers) if (!(await target.blobExists(TARGET_REPO, l.digest))) remaining += l.size;
      const lo = 1024 * 1024;
      const hi = Math.max(lo + 1, Math.floor(remaining * 0.8));
      const killed = new Promise<void>((resolve) => {
        armed = { threshold: lo + Math.floor(Math.random() * (hi - lo)), sent: 0, killed: resolve };
      });
      return { killed };
    };
    const status = async (id: string): Promise<string> =>
      (await rig.sql('SELECT status FROM promotion WHERE id = $1', [id]))[0].status as string;

    try {
      const env = await environment();
      let killed = await arm();
      const id = await request(sourceRef(tag), env);
      for (let i = 0; i < KILLS; i++) {
        const outcome = await Promise.race([
          killed.killed.then(() => 'killed'),
          (async () => {
            // A bound that holds on a busy machine: the restarted worker must load, take the
            // stalled job over and upload up to the next kill point.
            for (const until = Date.now() + 180_000; Date.now() < until;) {
              if (terminal.includes(await status(id))) return 'ended';
              await sleep(100);
            }
            return 'timeout';
          })(),
        ]);
        if (outcome !== 'killed') {
          throw new Error(
            `kill ${i + 1}: the promotion ${outcome} (${await status(id)}) before it was killed; ` +
              `its promote jobs: ${JSON.stringify(await promoteJobs(id))}`,
          );
        }
        await rig.stack.stopWorker('SIGKILL');
        expect(await status(id)).toBe('promoting');
        // The copy process ends with its worker (it may finish the blob in flight first): what is
        // left to upload is known once it has.
        for (const until = Date.now() + 10_000; orphans.some(running);) {
          if (Date.now() > until) throw new Error(`kill ${i + 1}: the copy process outlived its worker`);
          await sleep(20);
        }
        orphans = [];
        killed = await arm();
        await rig.stack.startWorker();
      }
      armed = undefined;
      const p = await waitFor(id, 'promoted', 120_000).catch(async (e: Error) => {
        throw new Error(`${e.message}; its promote jobs: ${JSON.stringify(await promoteJobs(id))}`);
      });

      expect(killedMidUpload).toHaveLength(KILLS);
      const sizes = new Map(layers.map((l) => [l.digest, l.size]));
      for (const k of killedMidUpload) expect(k.bytes).toBeLessThan(sizes.get(k.digest)!);
      expect(count(transitions(p), 'approved->promoting')).toBe(1);
      expect(count(transitions(p), 'promoting->promoted')).toBe(1);
      expect(await auditCount(id, 'promotion.promoted')).toBe(1);

      const copied = await target.getManifest(TARGET_REPO, tag);
      expect(copied.digest).toBe(image.digest);
      expect(copied.digest).toBe(await source.resolveTag(REPO, tag));
      expect(copied.bytes.equals(manifestBytes)).toBe(true);
      for (const l of layers) {
        expect(await target.blobExists(TARGET_REPO, l.digest)).toBe(true);
      }
      // One attestation, not one per attempt.
      const att = await attestationsInTarget(image.digest);
      expect(
        count(
          att.layers.map((l) => l.predicateType),
          PROMOTION_PREDICATE,
        ),
      ).toBe(1);
      expect(
        (await pr.tags(pr.target, TARGET_REPO)).filter(
          (t) => t === tag || t.startsWith(image.digest.replace(':', '-')),
        ),
      ).toEqual(expect.arrayContaining([tag, `${image.digest.replace(':', '-')}.att`]));
    } finally {
      pr.target.onUploadData = undefined;
      if (rig.stack.worker === undefined) await rig.stack.startWorker();
    }
  }, 1_200_000);

  // --- Secrets --------------------------------------------------------------------------------

  it('never keeps a registry token or client secret in logs, Redis or the database', async () => {
    const tokens = [...pr.source.tokens, ...pr.target.tokens];
    expect(tokens.length).toBeGreaterThan(0);
    const secrets = [...pr.allSecrets, ...retiredSecrets];
    const haystacks: { where: string; text: string }[] = [];

    const dataDir = join(process.env.AIRLOCK_TEST_DATA_DIR as string, rig.prefix);
    for (const file of ['api.log', 'worker.log']) {
      haystacks.push({ where: file, text: await readFile(join(dataDir, file), 'utf8') });
    }
    expect(haystacks.find((h) => h.where === 'worker.log')?.text).toMatch(/promot/i);

    let cursor = '0';
    do {
      const [next, keys] = await rig.redis.scan(cursor, 'MATCH', `${rig.prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) haystacks.push({ where: `redis ${key}`, text: await redisValue(key) });
    } while (cursor !== '0');
    expect(haystacks.some((h) => h.where.startsWith('redis '))).toBe(true);

    const tables = await rig.sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    for (const { table_name: table } of tables) {
      const rows = await rig.sql<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
      haystacks.push({ where: `table ${table}`, text: rows.map((r) => r.row).join('\n') });
    }
    expect(haystacks.some((h) => h.where === 'table promotion')).toBe(true);

    const leaks: string[] = [];
    for (const { where, text } of haystacks) {
      for (const token of tokens) {
        // The whole token, or its signature part alone.
        if (text.includes(token) || text.includes(token.split('.')[2])) leaks.push(`token in ${where}`);
      }
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`client secret in ${where}`);
      // Any JWT the registry-token issuer signed, even one the proxies never saw.
      for (const jwt of text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? []) {
        if (jwtPayload(jwt)?.iss === pr.issuer) leaks.push(`registry token in ${where}`);
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
  });

  /** The BullMQ jobs (hashes) that carry a promotion's id, for a diagnosis when one hangs. */
  async function promoteJobs(id: string): Promise<Record<string, string>[]> {
    const jobs: Record<string, string>[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await rig.redis.scan(cursor, 'MATCH', `${rig.prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if ((await rig.redis.type(key)) !== 'hash') continue;
        const job = await rig.redis.hgetall(key);
        if (job.data?.includes(id)) {
          const { name, attemptsMade, stc, failedReason, finishedOn, processedOn } = job;
          jobs.push({ key, name, attemptsMade, stc, failedReason, finishedOn, processedOn });
        }
      }
    } while (cursor !== '0');
    return jobs;
  }

  /** Runs the built CLI; resolves with its exit code and output. */
  async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const main = resolve(__dirname, '../../dist/apps/cli/main.js');
    return new Promise((done, fail) => {
      execFile(process.execPath, [main, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (code === null) fail(error ?? new Error('no exit code'));
        else done({ code, stdout, stderr });
      });
    });
  }

  async function redisValue(key: string): Promise<string> {
    const r = rig.redis;
    switch (await r.type(key)) {
      case 'string':
        return (await r.get(key)) ?? '';
      case 'hash':
        return JSON.stringify(await r.hgetall(key));
      case 'list':
        return JSON.stringify(await r.lrange(key, 0, -1));
      case 'set':
        return JSON.stringify(await r.smembers(key));
      case 'zset':
        return JSON.stringify(await r.zrange(key, 0, -1, 'WITHSCORES'));
      case 'stream':
        return JSON.stringify(await r.xrange(key, '-', '+'));
      default:
        return '';
    }
  }
});

function jwtPayload(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return undefined;
  }
}
