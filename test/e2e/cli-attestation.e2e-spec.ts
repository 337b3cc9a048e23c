// `airlock verify-attestation` (the built CLI, dist/apps/cli/main.js) against the attestation a
// real promotion attached: the CLI talks only to the target registry, never to the Airlock API.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { Rig } from '../support/rig';
import { CLI_MAIN, type CliResult, runCli } from '../support/cli-process';

/** Runs the CLI with no Airlock server configured: verification must not need one. */
function airlock(args: string[]): Promise<CliResult> {
  // An unreachable API: a call to it would fail the command.
  return runCli(args, { AIRLOCK_SERVER: 'http://127.0.0.1:1' });
}

const p256PublicKey = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;

describe('airlock verify-attestation', () => {
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  let dir: string;
  let airlockKeyFile: string;
  let promotedDigest: string;
  const env = `att-${randomBytes(3).toString('hex')}`;
  const releaseKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const releasePublicKey = releaseKeys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build dist first`);
    dir = mkdtempSync(join(tmpdir(), 'airlock-cli-att-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    rig = await Rig.start({ WORKER_QUEUES: 'checks,promote,maintenance', WORKER_RETRY_DELAY_MS: '100' });

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
          signatures: { keys: [{ name: 'release', publicKey: releasePublicKey }] },
        },
      },
    });
    expect(
      (
        await rig.call('POST', `/v1/environments/${env}/policies/${policy.body.version}/activate`, {
          as: 'admin2',
        })
      ).status,
    ).toBe(200);

    // A key-signed image, promoted.
    const image = await pushImage(source.host, 'acme/app', 'v1', { layers: 1 });
    const payload = cosignPayload(`${source.host}/acme/app`, image.digest);
    await pushCosignSignatures(source.host, 'acme/app', image.digest, [
      { payload, signature: cosignSign(payload, releaseKeys.privateKey) },
    ]);
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${source.host}/acme/app:v1`, environment: env },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    promotedDigest = image.digest;

    // Airlock's public key as the API publishes it (with the audit checkpoints).
    const checkpoints = await rig.call('GET', '/v1/audit/checkpoints', { as: 'auditor' });
    expect(checkpoints.status).toBe(200);
    airlockKeyFile = join(dir, 'airlock.pem');
    writeFileSync(airlockKeyFile, checkpoints.body.publicKey);
  });
  afterAll(async () => {
    await rig?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('exits 0 on the promoted image and prints what Airlock attested', async () => {
    const r = await airlock([
      'verify-attestation',
      `${target.host}/prod/acme/app@${promotedDigest}`,
      '--public-key',
      airlockKeyFile,
      '--insecure',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`attestation of ${target.host}/prod/acme/app@${promotedDigest}: VERIFIED`);
    expect(r.stdout).toMatch(new RegExp(`environment\\s+${env}`));
    expect(r.stdout).toContain(`${source.host}/acme/app@${promotedDigest} (tag v1)`);
    expect(r.stdout).toContain(`${target.host}/prod/acme/app@${promotedDigest} (tag v1)`);
    expect(r.stdout).toContain('signatures: pass');
    // An environment without upstreams or freeze windows says so.
    expect(r.stdout).toMatch(/upstream\s+none \(no upstream environment\)/);
    expect(r.stdout).toMatch(/freeze\s+none in force/);
    expect(r.stdout).toMatch(/result\s+PASSED/);
    expect(r.stdout).toContain(`airlock://environments/${env}/policies/`);
  });

  it('--json gives both verified predicates', async () => {
    const r = await airlock([
      'verify-attestation',
      `${target.host}/prod/acme/app@${promotedDigest}`,
      '--public-key',
      airlockKeyFile,
      '--insecure',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      verified: true,
      promotion: { verified: true, predicate: { environment: env, breakGlass: false } },
      verificationSummary: { verified: true, predicate: { verificationResult: 'PASSED' } },
      problems: [],
    });
  });

  it('exits 7 with another P-256 public key', async () => {
    const other = join(dir, 'other.pem');
    writeFileSync(other, p256PublicKey());
    const r = await airlock([
      'verify-attestation',
      `${target.host}/prod/acme/app@${promotedDigest}`,
      '--public-key',
      other,
      '--insecure',
    ]);
    expect(r.code).toBe(7);
    expect(r.stdout).toContain('NOT VERIFIED');
    expect(r.stdout).toContain('wrong_key');
    expect(r.stdout).not.toContain(env);
  });

  it('exits 7 for an image without an attestation', async () => {
    const plain = await pushImage(target.host, 'prod/acme/plain', 'v1', { layers: 1 });
    const r = await airlock([
      'verify-attestation',
      `${target.host}/prod/acme/plain@${plain.digest}`,
      '--public-key',
      airlockKeyFile,
      '--insecure',
    ]);
    expect(r.code).toBe(7);
    expect(r.stdout).toContain('the image has no attestation');
  });

  it('exits 1 when the registry cannot be reached or the image is not there', async () => {
    const unreachable = await airlock([
      'verify-attestation',
      `127.0.0.1:1/prod/acme/app@${promotedDigest}`,
      '--public-key',
      airlockKeyFile,
      '--insecure',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/error: .*ECONNREFUSED/);
    const missing = await airlock([
      'verify-attestation',
      `${target.host}/prod/acme/app@sha256:${'0'.repeat(64)}`,
      '--public-key',
      airlockKeyFile,
      '--insecure',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('was not found');
  });
});
