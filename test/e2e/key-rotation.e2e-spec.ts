// Airlock's own key rotates without breaking verification: a deployment signs with key A (a
// promotion's attestation and an audit checkpoint), is restarted with key B as the signing key and
// A listed in AIRLOCK_PREVIOUS_KEYS_FILE, and then what A signed still verifies — online
// (GET /v1/audit/verify) and offline with the published key set (`airlock keys`, `audit verify
// --keys`, `verify-attestation --keys`) — while what is new is signed by B and names B's key id.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointPayload } from '../../libs/domain/audit-checkpoint';
import { signingKeyId } from '../../libs/domain/signing-key-set';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { Rig } from '../support/rig';
import { CLI_MAIN, type CliResult, runCli } from '../support/cli-process';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const privatePem = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }).toString();

describe('rotating Airlock’s signing key', () => {
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-key-rotation-'));
  const keyFile = join(dir, 'signing-key.pem');
  const previousFile = join(dir, 'previous-keys.json');
  const checkpointFile = join(dir, 'checkpoints.jsonl');
  const a = p256();
  const b = p256();
  const idA = signingKeyId(a.publicKey);
  const idB = signingKeyId(b.publicKey);
  const env = `rot-${Math.random().toString(16).slice(2, 8)}`;
  const release = p256();
  let rotatedAt = '';
  /** Promoted before the rotation (signed by A) and after it (signed by B). */
  const promoted: { before?: { id: string; digest: string }; after?: { id: string; digest: string } } = {};
  const checkpoints: { before?: any; after?: any } = {};

  /** The built CLI, talking to the rig's API only when a command needs it. */
  function airlock(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return runCli(args, { AIRLOCK_SERVER: rig.stack.apiUrl, ...extraEnv });
  }

  async function promote(tag: string): Promise<{ id: string; digest: string }> {
    const image = await pushImage(source.host, 'acme/app', tag, { layers: 1 });
    const payload = cosignPayload(`${source.host}/acme/app`, image.digest);
    await pushCosignSignatures(source.host, 'acme/app', image.digest, [
      { payload, signature: cosignSign(payload, release.privateKey) },
    ]);
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${source.host}/acme/app:${tag}`, environment: env },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 60_000);
    expect(done.status).toBe('promoted');
    return { id: res.body.id, digest: image.digest };
  }

  async function checkpoint(): Promise<any> {
    const cp = await rig.call('POST', '/v1/audit/checkpoints', { as: 'auditor' });
    expect(cp.status).toBe(201);
    return cp.body;
  }

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build dist first`);
    writeFileSync(keyFile, privatePem(a.privateKey), { mode: 0o600 });
    writeFileSync(previousFile, '[]');
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    rig = await Rig.start({
      WORKER_QUEUES: 'checks,promote,maintenance',
      WORKER_RETRY_DELAY_MS: '100',
      AIRLOCK_SIGNING_KEY_FILE: keyFile,
      AIRLOCK_PREVIOUS_KEYS_FILE: previousFile,
      AUDIT_CHECKPOINT_FILE: checkpointFile,
    });
    await rig.trustChange('POST', '/v1/environments', {
      name: env,
      sources: [{ registry: source.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: target.host, repository: 'prod/{repository}', insecure: true },
    });
    const policy = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: {
        document: {
          approvals: { required: 0 },
          signatures: { keys: [{ name: 'release', publicKey: publicPem(release.publicKey) }] },
        },
      },
    });
    const activated = await rig.call(
      'POST',
      `/v1/environments/${env}/policies/${policy.body.version}/activate`,
      {
        as: 'admin2',
      },
    );
    expect(activated.status).toBe(200);

    // Key A signs a promotion's attestation and a checkpoint.
    promoted.before = await promote('v1');
    checkpoints.before = await checkpoint();

    // The rotation: B signs from now on, A stays for verification (public part only).
    await rig.stack.stop();
    rotatedAt = new Date().toISOString();
    writeFileSync(join(dir, 'key-a.pub.pem'), publicPem(a.publicKey));
    writeFileSync(keyFile, privatePem(b.privateKey), { mode: 0o600 });
    writeFileSync(previousFile, JSON.stringify([{ publicKeyFile: 'key-a.pub.pem', notAfter: rotatedAt }]));
    await rig.stack.start();

    promoted.after = await promote('v2');
    checkpoints.after = await checkpoint();
  }, 240_000);

  afterAll(async () => {
    await rig?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('publishes both keys at GET /v1/keys, without a token', async () => {
    const res = await rig.call('GET', '/v1/keys');
    expect(res.status).toBe(200);
    expect(res.body.keys).toEqual([
      {
        keyId: idB,
        algorithm: 'ES256',
        publicKey: publicPem(b.publicKey),
        notBefore: null,
        notAfter: null,
        current: true,
        spkiSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      expect.objectContaining({
        keyId: idA,
        publicKey: publicPem(a.publicKey),
        notAfter: new Date(rotatedAt).toISOString(),
        current: false,
      }),
    ]);
  });

  it('names the signing key on checkpoints and attestations: A before, B after', async () => {
    expect(checkpoints.before.keyId).toBe(idA);
    expect(checkpoints.after.keyId).toBe(idB);
    const before = await rig.call('GET', `/v1/promotions/${promoted.before?.id}`, { as: 'auditor' });
    const after = await rig.call('GET', `/v1/promotions/${promoted.after?.id}`, { as: 'auditor' });
    expect(before.body.attestation.keyId).toBe(idA);
    expect(after.body.attestation.keyId).toBe(idB);
  });

  it('verifies the old and the new checkpoints online', async () => {
    const v = await rig.call('GET', '/v1/audit/verify', { as: 'auditor' });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: true, firstCheckpointMismatch: null, checkpointsMatched: 2 });
  });

  describe('offline, with the published key set', () => {
    const keysPath = join(dir, 'keys.json');
    const cpsPath = join(dir, 'cps.jsonl');
    const exportPath = join(dir, 'export.jsonl');

    beforeAll(async () => {
      // No token: the key set is public.
      const k = await airlock(['keys', '--out', keysPath]);
      expect(k.stderr).toBe(`wrote 2 keys to ${keysPath}\n`);
      expect(k.code).toBe(0);
      const token = { AIRLOCK_TOKEN: await rig.token('auditor') };
      expect((await airlock(['audit', 'checkpoints', '--out', cpsPath], token)).code).toBe(0);
      expect((await airlock(['audit', 'export', '--out', exportPath], token)).code).toBe(0);
    });

    it('audit verify --keys accepts the checkpoints of both keys', async () => {
      const r = await airlock([
        'audit',
        'verify',
        '--file',
        exportPath,
        '--checkpoints',
        cpsPath,
        '--keys',
        keysPath,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/checkpoints\s+2 matched/);
    });

    it("audit verify with only the new key's PEM names the old checkpoint's key as unknown", async () => {
      const pem = join(dir, 'key-b.pub.pem');
      writeFileSync(pem, publicPem(b.publicKey));
      const r = await airlock([
        'audit',
        'verify',
        '--file',
        exportPath,
        '--checkpoints',
        cpsPath,
        '--public-key',
        pem,
      ]);
      expect(r.code).toBe(6);
      expect(r.stdout).toContain('checkpoint key unknown');
      expect(r.stdout).toContain(idA);
    });

    it.each([
      ['before', idA],
      ['after', idB],
    ] as const)(
      'verify-attestation --keys verifies the attestation made %s the rotation',
      async (when, keyId) => {
        const r = await airlock([
          'verify-attestation',
          `${target.host}/prod/acme/app@${promoted[when]?.digest}`,
          '--keys',
          keysPath,
          '--insecure',
        ]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('VERIFIED');
        expect(r.stdout).toContain(`key ${keyId}`);
      },
    );
  });

  describe('checkpoints the key set does not vouch for', () => {
    /** A checkpoint of the current head signed by `key`, dated now, naming `key`'s id. */
    function forged(key: KeyObject, keyId: string): Record<string, string> {
      const unsigned = {
        seq: checkpoints.after.seq as string,
        hash: checkpoints.after.hash as string,
        issuedAt: new Date().toISOString(),
        keyId,
      };
      return { ...unsigned, signature: sign('sha256', checkpointPayload(unsigned), key).toString('base64') };
    }
    let original = '';
    beforeEach(() => {
      original = readFileSync(checkpointFile, 'utf8');
    });
    afterEach(() => writeFileSync(checkpointFile, original));

    it('fails online naming a key that is not in the set', async () => {
      const c = p256();
      appendFileSync(checkpointFile, `${JSON.stringify(forged(c.privateKey, signingKeyId(c.publicKey)))}\n`);
      const v = await rig.call('GET', '/v1/audit/verify', { as: 'auditor' });
      expect(v.body).toMatchObject({
        ok: false,
        firstCheckpointMismatch: { problem: 'checkpoint_key_unknown', keyId: signingKeyId(c.publicKey) },
      });
    });

    it('fails online for the retired key signing after its notAfter', async () => {
      appendFileSync(checkpointFile, `${JSON.stringify(forged(a.privateKey, idA))}\n`);
      const v = await rig.call('GET', '/v1/audit/verify', { as: 'auditor' });
      expect(v.body).toMatchObject({
        ok: false,
        firstCheckpointMismatch: { problem: 'checkpoint_key_not_valid', keyId: idA },
      });
    });
  });

  it('refuses to start with a previous-keys file that is not valid, naming the problem', async () => {
    await rig.stack.stop();
    const good = readFileSync(previousFile, 'utf8');
    writeFileSync(previousFile, JSON.stringify([{ publicKeyFile: 'key-a.pub.pem' }]));
    try {
      await expect(rig.stack.startApi()).rejects.toThrow(
        /AIRLOCK_PREVIOUS_KEYS_FILE .*entry 0: notAfter \(when the key stopped signing\) is missing/,
      );
    } finally {
      writeFileSync(previousFile, good);
    }
  });
});
