import { generateKeyPairSync } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { Rig } from '../support/rig';

/** The shortest real path: a key-signed image in a real registry, promoted by tag. */
describe('trust checks, smoke', () => {
  let rig: Rig;
  let registry: RegistryHandle;
  beforeAll(async () => {
    registry = await startRegistry();
    rig = await Rig.start({ WORKER_JOB_ATTEMPTS: '2', WORKER_RETRY_DELAY_MS: '100' });
  });
  afterAll(async () => {
    await rig?.stop();
    await registry?.stop();
  });

  it('passes a key-signed image and rejects one signed by another key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const good = await pushImage(registry.host, 'acme/app', 'v1');
    const bad = await pushImage(registry.host, 'acme/app', 'v2');
    const sign = (digest: string, key = privateKey) => {
      const payload = cosignPayload(`${registry.host}/acme/app`, digest);
      return { payload, signature: cosignSign(payload, key) };
    };
    await pushCosignSignatures(registry.host, 'acme/app', good.digest, [sign(good.digest)]);
    await pushCosignSignatures(registry.host, 'acme/app', bad.digest, [sign(bad.digest, other.privateKey)]);
    const env = `trust-${randomBytes(3).toString('hex')}`;
    await rig.environment(
      env,
      {
        approvals: { required: 0 },
        signatures: {
          keys: [{ name: 'release', publicKey: publicKey.export({ type: 'spki', format: 'pem' }) }],
        },
      },
      [{ registry: registry.host, repositories: ['acme/*'], insecure: true } as any],
    );
    const promote = async (ref: string) =>
      rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: { artifact: `${registry.host}/acme/app${ref}`, environment: env },
      });
    const ok = await promote(':v1');
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ digest: good.digest, tag: 'v1' });
    const done = await rig.waitForStatus(ok.body.id, ['approved', 'rejected', 'failed']);
    expect(done.status).toBe('approved');
    expect(done.checks[0]).toMatchObject({ kind: 'signatures', status: 'pass' });

    const no = await promote(`@${bad.digest}`);
    const rejected = await rig.waitForStatus(no.body.id, ['approved', 'rejected', 'failed']);
    expect(rejected.status).toBe('rejected');
    expect(rejected.checks[0].findings[0]).toMatchObject({ reason: 'wrong_key', counted: false });
    expect(rejected.reasons[0]).toMatch(/^signatures: /);

    const missing = await promote(':nope');
    expect(missing).toMatchObject({ status: 422, body: { code: 'tag_not_found' } });
  });
});
