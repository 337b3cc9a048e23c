import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { freePort } from '../support/oidc';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage, pushIndex } from '../support/oci-images';
import { startRegistry, startRegistryProxy, type RegistryHandle } from '../support/registry';
import { Rig } from '../support/rig';
import {
  bundleJson,
  generateTestKeyPair,
  GITHUB_BUILDER,
  GITHUB_ISSUER,
  keyDsseBundle,
  MockSigstore,
  slsaProvenanceV1,
  spdxSbom,
  WORKFLOW_IDENTITY,
} from '../support/sigstore';
import {
  attachBundle,
  CI_SHA,
  CI_SOURCE_REPOSITORY,
  insecureSource,
  keyAttestation,
  pushCosignAttestations,
  pushKeySignature,
  pushSignatureLayers,
} from '../support/trust-fixtures';

/**
 * Signature and attestation checks end to end: a real registry (distribution 2.8) holding images
 * pushed by skopeo, cosign signatures and attestations in cosign's tag schemes, Sigstore bundles
 * made by the real signing code against a mock Fulcio and Rekor and attached as referrers by
 * @sigstore/oci; the built API resolves tags at intake, the built worker fetches and verifies.
 */
describe('trust checks', () => {
  const REPO = 'acme/app';
  const release = generateTestKeyPair();
  const other = generateTestKeyPair();
  const unique = () => randomBytes(3).toString('hex');

  let rig: Rig;
  let registry: RegistryHandle;
  let sigstore: MockSigstore;
  let rogue: MockSigstore;

  beforeAll(async () => {
    [rig, registry, sigstore, rogue] = await Promise.all([
      Rig.start({ WORKER_JOB_ATTEMPTS: '3', WORKER_RETRY_DELAY_MS: '200' }),
      startRegistry(),
      MockSigstore.start(),
      MockSigstore.start(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([rig?.stop(), registry?.stop(), sigstore?.close(), rogue?.close()]);
  });

  const keys = () => ({ keys: [{ name: 'release', publicKey: release.publicKeyPem }] });
  const identities = (root = sigstore.trustedRoot()) => ({
    identities: [{ issuer: GITHUB_ISSUER, subject: WORKFLOW_IDENTITY.sub }],
    trustedRoot: root,
    transparencyLog: 'required',
  });
  const provenancePolicy = {
    required: true,
    builderIds: [GITHUB_BUILDER],
    sourceRepositories: [CI_SOURCE_REPOSITORY],
    sourceRefs: ['refs/heads/main'],
  };

  const ref = (digest: string, host = registry.host) => `${host}/${REPO}@${digest}`;
  const image = () => pushImage(registry.host, REPO, `t-${unique()}`);
  const signedImage = async () => {
    const img = await image();
    await pushKeySignature(registry.host, REPO, img.digest, release);
    return img;
  };

  /** A fresh environment with this policy (no approvals needed) over the given sources. */
  async function environment(
    policy: Record<string, unknown>,
    sources = insecureSource(registry.host),
  ): Promise<string> {
    const env = `trust-${unique()}`;
    await rig.environment(env, { approvals: { required: 0 }, ...policy }, sources);
    return env;
  }

  const request = async (artifact: string, env: string) =>
    rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact, environment: env },
    });

  /** Requests the promotion and waits until the checks have decided it. */
  async function promote(
    policy: Record<string, unknown>,
    artifact: string,
    sources?: ReturnType<typeof insecureSource>,
  ): Promise<any> {
    const env = await environment(policy, sources);
    const res = await request(artifact, env);
    expect(res.status).toBe(201);
    return rig.waitForStatus(res.body.id, ['approved', 'rejected', 'failed', 'awaiting_approval']);
  }

  const check = (p: any, kind: string) => {
    const found = (p.checks as any[]).find((c) => c.kind === kind);
    if (!found) throw new Error(`no ${kind} check in ${JSON.stringify(p.checks)}`);
    return found;
  };
  const reasons = (p: any, kind: string): string[] => check(p, kind).findings.map((f: any) => f.reason);

  function expectApproved(p: any, kinds: string[]): void {
    expect({ status: p.status, reasons: p.reasons }).toEqual({
      status: 'approved',
      reasons: expect.any(Array),
    });
    for (const kind of kinds) {
      expect(check(p, kind)).toMatchObject({ status: 'pass' });
      expect(reasons(p, kind)).toContain('verified');
    }
  }

  /** Rejected by the `kind` check, with a finding that gives `reason`. */
  function expectRejected(p: any, kind: string, reason?: string): void {
    expect(p.status).toBe('rejected');
    expect(check(p, kind).status).toBe('fail');
    if (reason) expect(reasons(p, kind)).toContain(reason);
    expect(p.reasons.join('\n')).toContain(`${kind}:`);
    expect(p.history.map((h: any) => h.to)).not.toContain('approved');
  }

  describe('accepts', () => {
    it('a cosign key-based .sig signature', async () => {
      const img = await signedImage();
      const p = await promote({ signatures: keys() }, ref(img.digest));
      expectApproved(p, ['signatures']);
      expect(check(p, 'signatures').findings[0]).toMatchObject({ reason: 'verified', key: 'release' });
    });

    it('a keyless Sigstore bundle with a Rekor entry, attached as a referrer', async () => {
      const img = await image();
      const bundle = bundleJson(await sigstore.messageBundle(img.manifestBytes, WORKFLOW_IDENTITY));
      await attachBundle(registry.host, REPO, img.digest, bundle);
      const p = await promote({ signatures: identities() }, ref(img.digest));
      expectApproved(p, ['signatures']);
      expect(check(p, 'signatures').findings[0]).toMatchObject({
        reason: 'verified',
        identity: { subject: WORKFLOW_IDENTITY.sub, issuer: GITHUB_ISSUER },
        transparencyLog: true,
      });
    });

    it('a key-signed SLSA provenance (.att) from the CI commit and a keyless SPDX SBOM (referrer)', async () => {
      const img = await signedImage();
      const provenance = slsaProvenanceV1(img.digest, { repository: CI_SOURCE_REPOSITORY, commit: CI_SHA });
      await pushCosignAttestations(registry.host, REPO, img.digest, [keyAttestation(provenance, release)]);
      const sbom = bundleJson(await sigstore.dsseBundle(spdxSbom(img.digest), WORKFLOW_IDENTITY));
      await attachBundle(registry.host, REPO, img.digest, sbom);
      const p = await promote(
        {
          signatures: { ...keys(), ...identities() },
          attestations: { provenance: provenancePolicy, sbom: { required: true, formats: ['spdx'] } },
        },
        ref(img.digest),
      );
      expectApproved(p, ['signatures', 'attestations']);
      expect(check(p, 'attestations').findings.filter((f: any) => f.reason === 'verified')).toHaveLength(2);
    });

    it('a tag, resolved once at intake and pinned to its digest', async () => {
      const tag = `v1-${unique()}`;
      const img = await pushImage(registry.host, REPO, tag);
      await pushKeySignature(registry.host, REPO, img.digest, release);
      const env = await environment({ signatures: keys() });
      const res = await request(`${registry.host}/${REPO}:${tag}`, env);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ digest: img.digest, tag });
      expectApproved(await rig.waitForStatus(res.body.id, ['approved', 'rejected', 'failed']), [
        'signatures',
      ]);
    });
  });

  describe('refuses', () => {
    it('a signature by a key the policy does not trust', async () => {
      const img = await image();
      await pushKeySignature(registry.host, REPO, img.digest, other);
      expectRejected(await promote({ signatures: keys() }, ref(img.digest)), 'signatures', 'wrong_key');
    });

    it('a payload changed after signing', async () => {
      const img = await image();
      const layer = await sigstore.keylessLayer(img.digest, WORKFLOW_IDENTITY);
      const payload = Buffer.from(layer.payload.toString('utf8').replace('airlock tests', 'attacker'));
      await pushSignatureLayers(registry.host, REPO, img.digest, [
        { payload, annotations: layer.annotations },
      ]);
      expectRejected(
        await promote({ signatures: identities() }, ref(img.digest)),
        'signatures',
        'tampered_payload',
      );
    });

    it('a valid signature whose payload names another digest', async () => {
      const img = await image();
      const elsewhere = `sha256:${randomBytes(32).toString('hex')}`;
      const payload = cosignPayload(`${registry.host}/${REPO}`, elsewhere);
      await pushCosignSignatures(registry.host, REPO, img.digest, [
        { payload, signature: cosignSign(payload, release.privateKey) },
      ]);
      expectRejected(await promote({ signatures: keys() }, ref(img.digest)), 'signatures', 'digest_mismatch');
    });

    it("a signature copied from another image (B's .sig under A's tag)", async () => {
      const [a, b] = await Promise.all([image(), image()]);
      await pushKeySignature(registry.host, REPO, b.digest, release);
      await pushKeySignature(registry.host, REPO, b.digest, release, { tagDigest: a.digest });
      // B's own signature verifies: the copy is refused for what it names, not how it was made.
      expectApproved(await promote({ signatures: keys() }, ref(b.digest)), ['signatures']);
      expectRejected(await promote({ signatures: keys() }, ref(a.digest)), 'signatures', 'digest_mismatch');
    });

    it('an identity pattern that is not anchored, when the policy is added', async () => {
      const env = `trust-${unique()}`;
      const created = await rig.trustChange('POST', '/v1/environments', {
        name: env,
        sources: insecureSource(registry.host),
        target: { registry: 'registry.prod.example.com', repository: 'prod/{repository}' },
      });
      expect(created.name).toBe(env);
      const policy = await rig.call('POST', `/v1/environments/${env}/policies`, {
        as: 'admin',
        body: {
          document: {
            approvals: { required: 0 },
            signatures: {
              identities: [{ issuer: GITHUB_ISSUER, subjectRegExp: 'https://github\\.com/acme/' }],
              trustedRoot: sigstore.trustedRoot(),
            },
          },
        },
      });
      expect(policy).toMatchObject({ status: 422, body: { code: 'invalid_policy' } });
      expect(JSON.stringify(policy.body)).toContain('unanchored_pattern');
    });

    it('a certificate from a CA the trusted root does not name', async () => {
      const img = await image();
      const bundle = bundleJson(await rogue.messageBundle(img.manifestBytes, WORKFLOW_IDENTITY));
      await attachBundle(registry.host, REPO, img.digest, bundle);
      expectRejected(
        await promote({ signatures: identities() }, ref(img.digest)),
        'signatures',
        'untrusted_ca',
      );
    });

    it('a keyless signature without a log entry when the log is required', async () => {
      const img = await image();
      const bundle = bundleJson(
        await sigstore.messageBundle(img.manifestBytes, WORKFLOW_IDENTITY, { tlog: false }),
      );
      await attachBundle(registry.host, REPO, img.digest, bundle);
      expectRejected(
        await promote({ signatures: identities() }, ref(img.digest)),
        'signatures',
        'tlog_missing',
      );
    });

    describe('attestations', () => {
      const policy = { signatures: keys(), attestations: { provenance: provenancePolicy } };
      const withProvenance = async (statement: (digest: string) => Buffer) => {
        const img = await signedImage();
        await pushCosignAttestations(registry.host, REPO, img.digest, [
          keyAttestation(statement(img.digest), release),
        ]);
        const p = await promote(policy, ref(img.digest));
        expect(check(p, 'signatures').status).toBe('pass');
        return p;
      };
      const good = { repository: CI_SOURCE_REPOSITORY, commit: CI_SHA };

      it('an attestation about another digest', async () => {
        const elsewhere = `sha256:${randomBytes(32).toString('hex')}`;
        const p = await withProvenance(() => slsaProvenanceV1(elsewhere, good));
        expectRejected(p, 'attestations', 'subject_mismatch');
      });

      it('provenance from an untrusted builder', async () => {
        const p = await withProvenance((d) =>
          slsaProvenanceV1(d, { ...good, builderId: 'https://ci.attacker.example/builder@v1' }),
        );
        expectRejected(p, 'attestations', 'untrusted_builder');
      });

      it('provenance from another repository', async () => {
        const p = await withProvenance((d) =>
          slsaProvenanceV1(d, { ...good, repository: 'https://github.com/attacker/app' }),
        );
        expectRejected(p, 'attestations', 'source_mismatch');
      });

      it('provenance of another commit than the CI token claims', async () => {
        const p = await withProvenance((d) => slsaProvenanceV1(d, { ...good, commit: 'f'.repeat(40) }));
        expectRejected(p, 'attestations', 'commit_mismatch');
      });

      it('a key-based DSSE attestation bundle (referrer) whose statement was changed', async () => {
        const img = await signedImage();
        const bundle = (await keyDsseBundle(slsaProvenanceV1(img.digest, good), release)) as {
          dsseEnvelope: { payload: string };
        };
        const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
        statement.predicate.runDetails.builder.id = 'https://ci.attacker.example/builder@v1';
        bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
        await attachBundle(registry.host, REPO, img.digest, bundle);
        expectRejected(await promote(policy, ref(img.digest)), 'attestations', 'tampered_payload');
      });
    });

    it('a multi-platform index whose signature covers only one child', async () => {
      const index = await pushIndex(registry.host, REPO, `multi-${unique()}`, ['linux/amd64', 'linux/arm64']);
      await pushKeySignature(registry.host, REPO, index.children[0].digest, release);
      expectApproved(await promote({ signatures: keys() }, ref(index.children[0].digest)), ['signatures']);
      expectRejected(await promote({ signatures: keys() }, ref(index.digest)), 'signatures');
    });

    it('an image with no signature at all', async () => {
      const img = await image();
      const p = await promote({ signatures: keys() }, ref(img.digest));
      expectRejected(p, 'signatures');
      expect(check(p, 'signatures').findings).toEqual([]);
    });
  });

  describe('fails closed', () => {
    it('a registry that goes away while checking: check error, retried, then failed, never approved', async () => {
      const img = await signedImage();
      // A proxy stands in for the registry. The first thing the checks fetch beyond the image
      // manifest (the .sig manifest, the referrers) has its connection dropped and the proxy stops
      // listening: every later attempt is refused, as by a registry that was shut down.
      const alive = new Set(['/v2/', `/v2/${REPO}/manifests/${img.digest}`]);
      let stopped: Promise<void> | undefined;
      const proxy = await startRegistryProxy(registry.host, {
        intercept: (req: IncomingMessage, _res: ServerResponse) => {
          if (stopped === undefined && alive.has(req.url ?? '')) return false;
          req.socket.destroy();
          stopped ??= proxy.stop();
          return true;
        },
      });
      try {
        const env = await environment({ signatures: keys() }, insecureSource(proxy.host));
        const res = await request(ref(img.digest, proxy.host), env);
        expect(res.status).toBe(201);
        const p = await rig.waitForStatus(res.body.id, ['failed', 'approved', 'rejected'], 20_000);
        expect(stopped).toBeDefined();
        expect(p.status).toBe('failed');
        expect(p.history.map((h: any) => h.to)).not.toContain('approved');
        expect(p.reasons.join('\n')).toContain('signatures:');
        // Run again after the error until the last of WORKER_JOB_ATTEMPTS (3). `attempts` counts
        // check runs; the stage currently runs from two jobs per promotion (received, checking).
        expect(check(p, 'signatures')).toMatchObject({ status: 'error', findings: [] });
        expect(check(p, 'signatures').attempts).toBeGreaterThanOrEqual(3);
        expect(check(p, 'signatures').attempts).toBeLessThanOrEqual(2 * 3);
      } finally {
        await (stopped ?? proxy.stop());
      }
    });

    it('an unknown tag at intake: 422 tag_not_found', async () => {
      const env = await environment({ signatures: keys() });
      const res = await request(`${registry.host}/${REPO}:no-such-${unique()}`, env);
      expect(res).toMatchObject({ status: 422, body: { code: 'tag_not_found' } });
    });

    it('a registry that is down at intake: 503 registry_unavailable', async () => {
      const down = `127.0.0.1:${await freePort()}`;
      const env = await environment({ signatures: keys() }, insecureSource(down));
      const res = await request(`${down}/${REPO}:v1`, env);
      expect(res).toMatchObject({ status: 503, body: { code: 'registry_unavailable' } });
    });
  });
});
