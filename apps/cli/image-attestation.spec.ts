import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verificationKey, VerificationKeys } from '../../libs/domain/signing-key-set';
import { sha256Digest } from '../../libs/oci/digest-stream';
import { RegistryError } from '../../libs/oci/errors';
import { type ManifestResult } from '../../libs/oci/registry-client';
import { type RegistryConfig } from '../../libs/oci/registry-config';
import {
  cosignAttestationLayers,
  PROMOTION_PREDICATE,
  type PromotionFacts,
  promotionStatements,
  signStatement,
  VSA_PREDICATE,
} from '../../libs/trust/promotion-attestation';
import { SigningKey } from '../../libs/trust/signing-key';
import { UsageError } from './args';
import { run } from './cli';
import { ExitCode } from './exit-codes';
import {
  type AttestationRegistry,
  checkImageAttestation,
  exitCodeForReport,
  formatAttestationReport,
  MAX_CANDIDATE_LAYERS,
  parseImageReference,
} from './image-attestation';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const HOST = 'registry.prod.example.com:5000';
const REPO = 'prod/acme/app';
const IMAGE = `${HOST}/${REPO}@${DIGEST}`;

function p256(): { key: SigningKey; publicKey: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = SigningKey.fromPem(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  return { key, publicKey: key.publicKeyPem };
}
const airlock = p256();
const stranger = p256();

const facts = (digest = DIGEST): PromotionFacts => ({
  promotionId: '7b0c0e0e-1111-4222-8333-944445555666',
  environment: 'production',
  source: { registry: 'staging.example.com', repository: 'acme/app', digest, tag: 'v1' },
  target: { registry: HOST, repository: REPO, digest, tag: 'v1' },
  policy: { version: 3, sha256: 'c'.repeat(64) },
  checks: [{ kind: 'signature', status: 'pass', summary: '1 of 1 signer' }],
  waivers: [],
  approvals: [{ decision: 'approved', approver: 'alice@corp', at: '2026-01-01T00:01:00.000Z' }],
  breakGlass: false,
  kind: 'promotion',
  rollback: null,
  upstream: { environment: 'staging', promotionId: 'u-1', tag: 'v1', promotedAt: '2025-12-31T00:00:00.000Z' },
  soak: { required: '24h', skipped: false, since: '2025-12-31T00:00:00.000Z', observedSeconds: 86_400 },
  freeze: { overridden: false, windows: [] },
  requester: { identity: 'repo:acme/app@https://ci', claims: {} },
  requestedAt: '2026-01-01T00:00:00.000Z',
  promotedAt: '2026-01-01T00:02:00.000Z',
});

interface Layer {
  bytes: Buffer;
  annotations: Record<string, string>;
}

/** Airlock's two layers, signed with `key`, about `digest`. */
function airlockLayers(key = airlock.key, digest = DIGEST, over: Partial<PromotionFacts> = {}): Layer[] {
  return cosignAttestationLayers(
    promotionStatements({ ...facts(digest), ...over }).map((s) => ({
      predicateType: s.predicateType,
      envelope: signStatement(s.payload, key),
    })),
    over.promotionId,
  );
}

interface FakeOptions {
  /** null: the image has no `.att`. */
  layers?: Layer[] | null;
  imageExists?: boolean;
  blobError?: RegistryError;
  /** The repository the command should ask for. */
  repository?: string;
}

function fakeRegistry(options: FakeOptions = {}): AttestationRegistry & {
  closed: boolean;
  configs: RegistryConfig[];
} {
  const layers = options.layers === undefined ? airlockLayers() : options.layers;
  const blobs = new Map((layers ?? []).map((l) => [sha256Digest(l.bytes), l.bytes]));
  const fake = {
    closed: false,
    configs: [] as RegistryConfig[],
    headManifest: async (repository: string, reference: string) => {
      expect([repository, reference]).toEqual([options.repository ?? REPO, DIGEST]);
      return options.imageExists === false ? null : { digest: DIGEST };
    },
    tagSchemeManifest: async (repository: string, digest: string, suffix?: string) => {
      expect([repository, digest, suffix]).toEqual([options.repository ?? REPO, DIGEST, 'att']);
      if (layers === null) return null;
      const json = {
        schemaVersion: 2 as const,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: OTHER, size: 2 },
        layers: layers.map((l) => ({
          mediaType: 'application/vnd.dsse.envelope.v1+json',
          digest: sha256Digest(l.bytes),
          size: l.bytes.length,
          annotations: l.annotations,
        })),
      };
      const bytes = Buffer.from(JSON.stringify(json));
      return {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256Digest(bytes),
        size: bytes.length,
        bytes,
        json,
      } as ManifestResult;
    },
    getBlobBytes: async (_repository: string, digest: string, o: { maxBytes: number }) => {
      expect(o.maxBytes).toBe(1 << 20);
      if (options.blobError) throw options.blobError;
      const bytes = blobs.get(digest);
      if (!bytes) throw new RegistryError('not_found', `blob ${digest} not found`);
      return bytes;
    },
    close: () => {
      fake.closed = true;
    },
  };
  return fake;
}

const ref = parseImageReference(IMAGE);

describe('parseImageReference', () => {
  it('splits registry (with port), repository and digest', () => {
    expect(ref).toEqual({ registry: HOST, repository: REPO, digest: DIGEST });
    expect(parseImageReference(`127.0.0.1:5000/app@${DIGEST}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'app',
      digest: DIGEST,
    });
  });

  it('accepts and ignores a tag next to the digest', () => {
    expect(parseImageReference(`${HOST}/${REPO}:v1@${DIGEST}`)).toEqual(ref);
  });

  it.each([
    [`${HOST}/${REPO}:v1`, /not pinned by digest/],
    [`${HOST}/${REPO}@sha256:abc`, /no valid sha256 digest/],
    [`${HOST}/${REPO}@sha512:${'a'.repeat(128)}`, /no valid sha256 digest/],
    [`app@${DIGEST}`, /names no registry/],
    [`${HOST}/Acme/App@${DIGEST}`, /invalid repository/],
    [`${HOST}/@${DIGEST}`, /invalid repository/],
    [`bad_host!/app@${DIGEST}`, /invalid registry/],
  ])('refuses %s', (text, message) => {
    expect(() => parseImageReference(text)).toThrow(UsageError);
    expect(() => parseImageReference(text)).toThrow(message);
  });
});

describe('checkImageAttestation', () => {
  it('verifies both predicates and returns their signed content', async () => {
    const r = await checkImageAttestation(fakeRegistry(), ref, airlock.publicKey);
    expect(r).toMatchObject({
      verified: true,
      problems: [],
      notes: [],
      promotion: { verified: true, predicate: { environment: 'production' } },
      verificationSummary: { verified: true, predicate: { verificationResult: 'PASSED' } },
    });
    expect(r.attestation?.reference).toBe(`${HOST}/${REPO}:sha256-${'a'.repeat(64)}.att`);
    expect(exitCodeForReport(r)).toBe(ExitCode.Ok);
  });

  it('is not verified with another key (exit 7)', async () => {
    const r = await checkImageAttestation(fakeRegistry(), ref, stranger.publicKey);
    expect(r.verified).toBe(false);
    expect(r.layers.map((l) => l.reason)).toEqual(['wrong_key', 'wrong_key']);
    expect(r.problems.join('\n')).toMatch(/no promotion attestation verifies: .*wrong_key/);
    expect(exitCodeForReport(r)).toBe(ExitCode.AttestationInvalid);
  });

  it('is not verified when the image has no attestation', async () => {
    const r = await checkImageAttestation(fakeRegistry({ layers: null }), ref, airlock.publicKey);
    expect(r).toMatchObject({ verified: false, attestation: null });
    expect(r.problems).toEqual([`the image has no attestation (no tag sha256-${'a'.repeat(64)}.att)`]);
    expect(exitCodeForReport(r)).toBe(ExitCode.AttestationInvalid);
  });

  it('verifies every promotion of the digest kept in the .att, the newest speaking for it, and shows a rollback', async () => {
    const first = '11111111-1111-4111-8111-111111111111';
    const later = '22222222-2222-4222-8222-222222222222';
    const back = '33333333-3333-4333-8333-333333333333';
    const layers = [
      ...airlockLayers(airlock.key, DIGEST, { promotionId: first }),
      ...airlockLayers(airlock.key, DIGEST, {
        promotionId: back,
        kind: 'rollback',
        rollback: { fromPromotionId: later, toPromotionId: first, reason: 'later leaks memory' },
        promotedAt: '2026-01-03T00:00:00.000Z',
      }),
    ];
    const r = await checkImageAttestation(fakeRegistry({ layers }), ref, airlock.publicKey);
    expect(r.verified).toBe(true);
    expect(r.promotions.map((p) => p.predicate?.promotionId)).toEqual([first, back]);
    expect(r.promotion.predicate).toMatchObject({
      kind: 'rollback',
      rollback: { fromPromotionId: later, toPromotionId: first },
    });
    const text = formatAttestationReport(r).join('\n');
    expect(text).toMatch(/kind\s+ROLLBACK/);
    expect(text).toMatch(new RegExp(`rolled back from\\s+promotion ${later}`));
    expect(text).toMatch(new RegExp(`restores\\s+promotion ${first}`));
    expect(text).toMatch(/reason\s+later leaks memory/);
    expect(text).toContain(`earlier promotions of this digest (1, oldest first):`);
    expect(text).toContain(`promotion ${first} to production`);
  });

  it('reads the newest layers when a digest was promoted more often than the bound', async () => {
    const many = Array.from({ length: MAX_CANDIDATE_LAYERS / 2 + 1 }, (_, i) =>
      airlockLayers(airlock.key, DIGEST, { promotionId: `p-${i}` }),
    ).flat();
    const r = await checkImageAttestation(fakeRegistry({ layers: many }), ref, airlock.publicKey);
    expect(r.verified).toBe(true);
    expect(r.layers).toHaveLength(MAX_CANDIDATE_LAYERS);
    expect(r.promotion.predicate?.promotionId).toBe(`p-${MAX_CANDIDATE_LAYERS / 2}`);
    expect(r.notes.join('\n')).toContain(`only the newest ${MAX_CANDIDATE_LAYERS} were read`);
  });

  it("fails when a layer Airlock marked as a promotion's does not verify", async () => {
    const forged = airlockLayers(stranger.key, DIGEST, { promotionId: 'p-forged' });
    const layers = [...airlockLayers(), ...forged];
    const r = await checkImageAttestation(fakeRegistry({ layers }), ref, airlock.publicKey);
    expect(r.verified).toBe(false);
    expect(r.problems.join('\n')).toMatch(/of promotion p-forged does not verify: wrong_key/);
  });

  it('needs both predicates', async () => {
    const [promotion] = airlockLayers();
    const r = await checkImageAttestation(fakeRegistry({ layers: [promotion] }), ref, airlock.publicKey);
    expect(r.promotion.verified).toBe(true);
    expect(r.verificationSummary.verified).toBe(false);
    expect(r.problems).toEqual(['no verification summary (VSA) in the attestation']);
    expect(exitCodeForReport(r)).toBe(ExitCode.AttestationInvalid);
  });

  it('goes by the signed predicate type, not the layer annotation', async () => {
    const [, vsa] = airlockLayers();
    const relabelled = { ...vsa, annotations: { ...vsa.annotations, predicateType: PROMOTION_PREDICATE } };
    const r = await checkImageAttestation(
      fakeRegistry({ layers: [relabelled, vsa] }),
      ref,
      airlock.publicKey,
    );
    expect(r.verificationSummary.verified).toBe(true);
    expect(r.promotion.verified).toBe(false);
    expect(r.verified).toBe(false);
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^no promotion attestation verifies: sha256:.*signed as https:\/\/slsa.dev\/verification_summary\/v1/,
      ),
    ]);
  });

  it('refuses statements about another digest, even signed by Airlock', async () => {
    const r = await checkImageAttestation(
      fakeRegistry({ layers: airlockLayers(airlock.key, OTHER) }),
      ref,
      airlock.publicKey,
    );
    expect(r.layers.map((l) => l.reason)).toEqual(['subject_mismatch', 'subject_mismatch']);
    expect(r.verified).toBe(false);
  });

  it('counts one verifying layer next to foreign or broken ones', async () => {
    const foreign = airlockLayers(stranger.key);
    const garbage = { bytes: Buffer.from('not json'), annotations: { predicateType: VSA_PREDICATE } };
    const ignored = { bytes: Buffer.from('{}'), annotations: { predicateType: 'https://example.com/other' } };
    const r = await checkImageAttestation(
      fakeRegistry({ layers: [...foreign, garbage, ignored, ...airlockLayers()] }),
      ref,
      airlock.publicKey,
    );
    expect(r.verified).toBe(true);
    expect(r.layers.map((l) => l.reason)).toEqual([
      'wrong_key',
      'wrong_key',
      'malformed',
      'verified',
      'verified',
    ]);
  });

  it('treats an oversized or mismatching layer as not verifying', async () => {
    const r = await checkImageAttestation(
      fakeRegistry({ blobError: new RegistryError('too_large', 'blob too large') }),
      ref,
      airlock.publicKey,
    );
    expect(r.verified).toBe(false);
    expect(r.layers.map((l) => l.reason)).toEqual(['too_large', 'too_large']);
  });

  it('throws (exit 1) when the registry is unreachable or the image does not exist', async () => {
    await expect(
      checkImageAttestation(
        fakeRegistry({ blobError: new RegistryError('unavailable', 'connection refused') }),
        ref,
        airlock.publicKey,
      ),
    ).rejects.toThrow('connection refused');
    await expect(
      checkImageAttestation(fakeRegistry({ imageExists: false }), ref, airlock.publicKey),
    ).rejects.toThrow(/was not found/);
  });

  it('notes a target other than the reference, without failing', async () => {
    const r = await checkImageAttestation(
      fakeRegistry({ repository: 'mirror/app' }),
      { ...ref, repository: 'mirror/app' },
      airlock.publicKey,
    );
    expect(r.verified).toBe(true);
    expect(r.notes).toEqual([`Airlock promoted this digest to ${HOST}/${REPO}, not ${HOST}/mirror/app`]);
  });
});

describe('airlock verify-attestation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-verify-att-'));
  const keyFile = join(dir, 'airlock.pem');
  const strangerFile = join(dir, 'stranger.pem');
  writeFileSync(keyFile, airlock.publicKey);
  writeFileSync(strangerFile, stranger.publicKey);

  async function cli(argv: string[], registry = fakeRegistry()) {
    let stdout = '';
    let stderr = '';
    const code = await run({
      argv,
      env: {},
      stdout: { write: (c: string | Uint8Array) => (stdout += c.toString()) },
      stderr: { write: (c: string | Uint8Array) => (stderr += c.toString()) },
      registry: (config) => {
        registry.configs.push(config);
        return registry;
      },
      fetch: () => {
        throw new Error('verify-attestation must not call the Airlock API');
      },
    });
    return { code, stdout, stderr, registry };
  }

  it('exits 0 and prints the summary when both predicates verify', async () => {
    const r = await cli(['verify-attestation', IMAGE, '--public-key', keyFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.Ok);
    expect(r.stdout).toContain(`attestation of ${IMAGE}: VERIFIED`);
    expect(r.stdout).toMatch(/environment\s+production/);
    expect(r.stdout).toMatch(/policy\s+v3 \(sha256 c{64}\)/);
    expect(r.stdout).toContain('signature: pass');
    expect(r.stdout).toContain('alice@corp (approved at 2026-01-01T00:01:00.000Z)');
    expect(r.stdout).toMatch(/requester\s+repo:acme\/app@https:\/\/ci/);
    expect(r.stdout).toMatch(/verifier\s+https:\/\/airlock.dev\/verifier\/v1/);
    expect(r.stdout).toMatch(/result\s+PASSED/);
    expect(r.stdout).toMatch(/policy\s+airlock:\/\/environments\/production\/policies\/3/);
    expect(r.registry.configs).toEqual([{ host: HOST, insecure: false }]);
    expect(r.registry.closed).toBe(true);
  });

  it('exits 7 with another key, or without an attestation', async () => {
    const wrong = await cli(['verify-attestation', IMAGE, '--public-key', strangerFile]);
    expect(wrong.code).toBe(ExitCode.AttestationInvalid);
    expect(wrong.stdout).toContain('NOT VERIFIED');
    const none = await cli(
      ['verify-attestation', IMAGE, '--public-key', keyFile],
      fakeRegistry({ layers: null }),
    );
    expect(none.code).toBe(7);
    expect(none.stdout).toContain('the image has no attestation');
  });

  it('--json prints the report', async () => {
    const r = await cli(['verify-attestation', IMAGE, '--public-key', keyFile, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      image: IMAGE,
      verified: true,
      promotion: { predicateType: PROMOTION_PREDICATE, predicate: { environment: 'production' } },
      verificationSummary: { predicateType: VSA_PREDICATE, verified: true },
    });
  });

  it('passes --insecure and the registry token, which is never printed', async () => {
    const tokenFile = join(dir, 'registry-token');
    writeFileSync(tokenFile, 'registry-secret-token\n');
    const registry = fakeRegistry({
      blobError: new RegistryError('unavailable', 'registry-secret-token refused'),
    });
    const r = await cli(
      [
        'verify-attestation',
        IMAGE,
        '--public-key',
        keyFile,
        '--insecure',
        '--registry-token-file',
        tokenFile,
      ],
      registry,
    );
    expect(r.code).toBe(ExitCode.Error);
    expect(registry.configs).toEqual([
      { host: HOST, insecure: true, credentials: { bearerToken: 'registry-secret-token' } },
    ]);
    expect(r.stderr).toContain('[redacted] refused');
    expect(r.stdout + r.stderr).not.toContain('registry-secret-token');
    expect(registry.closed).toBe(true);
  });

  it.each([
    [['verify-attestation', IMAGE], /--keys \(or --public-key\) is required/],
    [['verify-attestation', '--public-key', 'k.pem'], /expected <image>, got none/],
    [['verify-attestation', `${HOST}/${REPO}:v1`, '--public-key', 'k.pem'], /not pinned by digest/],
    [['verify-attestation', IMAGE, '--public-key', join(dir, 'missing.pem')], /cannot read .*ENOENT/],
    [
      ['verify-attestation', IMAGE, '--public-key', keyFile, '--registry-token-file', join(dir, 'nope')],
      /cannot read --registry-token-file/,
    ],
    [
      ['verify-attestation', IMAGE, '--public-key', keyFile, '--token-file', keyFile],
      /use --registry-token-file/,
    ],
    [['verify-attestation', IMAGE, '--public-key', keyFile, '--nope'], /Unknown option '--nope'/],
  ])('exits 1 on %j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(ExitCode.Error);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Run 'airlock verify-attestation --help' for usage.`);
    expect(r.registry.configs).toEqual([]);
  });

  it('exits 1 on a file that is not a public key', async () => {
    const notKey = join(dir, 'not-a-key.pem');
    writeFileSync(notKey, 'hello');
    const r = await cli(['verify-attestation', IMAGE, '--public-key', notKey]);
    expect(r.code).toBe(ExitCode.Error);
    expect(r.stderr).toContain('is not a PEM public key');
  });

  it('exits 1 when the image is not in the registry', async () => {
    const r = await cli(
      ['verify-attestation', IMAGE, '--public-key', keyFile],
      fakeRegistry({ imageExists: false }),
    );
    expect(r.code).toBe(ExitCode.Error);
    expect(r.stderr).toContain(`error: ${IMAGE} was not found on ${HOST}`);
  });

  it('documents the command and exit code 7', async () => {
    const main = await cli(['--help']);
    expect(main.stdout).toMatch(/verify-attestation\s+verify Airlock's signed attestation/);
    expect(main.stdout).toContain('7 attestation missing or invalid');
    const help = await cli(['verify-attestation', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'usage: airlock verify-attestation <registry/repository@sha256:…> (--keys keys.json | --public-key airlock.pem) [--insecure] [--registry-token-file f]',
    );
    expect(help.stdout).toMatch(/Exit 0 when both verify, 7 when either is missing/);
  });
});

describe('checkImageAttestation with a key set (after a rotation)', () => {
  const ref = parseImageReference(IMAGE);
  const current = p256();
  // Airlock's earlier key signed until 2026-02-01; the attestation above is dated 2026-01-01.
  const rotated = (notAfter = '2026-02-01T00:00:00Z') =>
    VerificationKeys.of([
      verificationKey(current.key.publicKey, { current: true }),
      verificationKey(airlock.key.publicKey, { notAfter: new Date(notAfter) }),
    ]);

  it("names the key in the envelopes' keyid", () => {
    const envelope = JSON.parse(airlockLayers()[0].bytes.toString()) as {
      signatures: Array<{ keyid: string }>;
    };
    expect(envelope.signatures[0].keyid).toBe(airlock.key.keyId);
  });

  it('verifies an attestation of the previous key, with the key its keyid names', async () => {
    const r = await checkImageAttestation(fakeRegistry(), ref, rotated());
    expect(r.verified).toBe(true);
    expect(r.layers.map((l) => [l.keyId, l.verifiedBy])).toEqual([
      [airlock.key.keyId, airlock.key.keyId],
      [airlock.key.keyId, airlock.key.keyId],
    ]);
    expect(formatAttestationReport(r)[2]).toContain(`key ${airlock.key.keyId}`);
  });

  it("refuses a previous key's signature dated after the key's period", async () => {
    const r = await checkImageAttestation(fakeRegistry(), ref, rotated('2025-12-01T00:00:00Z'));
    expect(r.verified).toBe(false);
    expect(r.layers[0]).toMatchObject({ reason: 'key_not_valid' });
    expect(r.layers[0].detail).toContain(airlock.key.keyId);
  });

  it('refuses an envelope naming a key not in the set, naming it', async () => {
    const r = await checkImageAttestation(
      fakeRegistry({ layers: airlockLayers(stranger.key) }),
      ref,
      rotated(),
    );
    expect(r.verified).toBe(false);
    expect(r.layers[0]).toMatchObject({ reason: 'wrong_key' });
    expect(r.problems.join(' ')).toContain(stranger.key.keyId);
  });

  it('tries every key valid at its date on envelopes signed before key ids (empty keyid)', async () => {
    const layers = airlockLayers().map((l) => {
      const e = JSON.parse(l.bytes.toString()) as { signatures: Array<{ keyid: string }> };
      e.signatures[0].keyid = '';
      return { ...l, bytes: Buffer.from(JSON.stringify(e)) };
    });
    const r = await checkImageAttestation(fakeRegistry({ layers }), ref, rotated());
    expect(r.verified).toBe(true);
    expect(r.layers[0].verifiedBy).toBe(airlock.key.keyId);
  });

  it('takes --keys from the CLI (the JSON of GET /v1/keys)', async () => {
    const keysFile = join(mkdtempSync(join(tmpdir(), 'airlock-keys-')), 'keys.json');
    writeFileSync(keysFile, JSON.stringify(rotated().published()));
    const r = await run({
      argv: ['verify-attestation', IMAGE, '--keys', keysFile],
      env: {},
      stdout: { write: () => true },
      stderr: { write: () => true },
      fetch: () => Promise.reject(new Error('no server')),
      registry: () => fakeRegistry(),
    });
    expect(r).toBe(ExitCode.Ok);
  });
});
