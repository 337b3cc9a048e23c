import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { RegistryClient } from '../../libs/oci';
import { PROMOTION_PREDICATE, verifyAttestation, VSA_PREDICATE } from '../../libs/trust';
import { cosignPayload, cosignSign, pushCosignSignatures, pushImage, pushIndex } from '../support/oci-images';
import { type RegistryHandle, startRegistry } from '../support/registry';
import { childProcesses } from '../support/process-tree';
import { Rig } from '../support/rig';

/** Promotion between two anonymous loopback registries (token auth is in promoter.e2e-spec.ts). */
describe.each(['child', 'inline'])('promoter, smoke (PROMOTER_COPY_PROCESS=%s)', (copyProcess) => {
  let rig: Rig;
  let source: RegistryHandle;
  let target: RegistryHandle;
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    rig = await Rig.start({
      WORKER_QUEUES: 'checks,promote,maintenance',
      WORKER_RETRY_DELAY_MS: '100',
      PROMOTER_COPY_PROCESS: copyProcess,
    });
  });
  afterAll(async () => {
    await rig?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  async function environment(): Promise<string> {
    const env = `prom-${randomBytes(3).toString('hex')}`;
    const res = await rig.trustChange('POST', '/v1/environments', {
      name: env,
      sources: [{ registry: source.host, repositories: ['acme/*'], insecure: true }],
      target: { registry: target.host, repository: 'prod/{repository}', insecure: true },
    });
    expect(res.name).toBe(env);
    const v = await rig.call('POST', `/v1/environments/${env}/policies`, {
      as: 'admin',
      body: {
        document: { approvals: { required: 0 }, signatures: { keys: [{ name: 'release', publicKey }] } },
      },
    });
    expect(
      (
        await rig.call('POST', `/v1/environments/${env}/policies/${v.body.version}/activate`, {
          as: 'admin2',
        })
      ).status,
    ).toBe(200);
    return env;
  }

  const sign = async (digest: string, repository = 'acme/app') => {
    const payload = cosignPayload(`${source.host}/${repository}`, digest);
    await pushCosignSignatures(source.host, repository, digest, [
      { payload, signature: cosignSign(payload, keys.privateKey) },
    ]);
  };

  it('copies the image, its signature and a signed attestation; the digest is unchanged', async () => {
    const env = await environment();
    const image = await pushImage(source.host, 'acme/app', 'v1', { layers: 2 });
    await sign(image.digest);
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${source.host}/acme/app:v1`, environment: env },
    });
    expect(res.status).toBe(201);
    const done = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    expect(done.status).toBe('promoted');
    expect(done.history.map((h: any) => h.to)).toEqual([
      'received',
      'checking',
      'approved',
      'promoting',
      'promoted',
    ]);
    // The bytes moved in the worker's copy process (the default), which it keeps for the next
    // copy; or in the worker itself.
    const copiers = childProcesses(rig.stack.worker!.child.pid!)
      .map((c) => c.command)
      .filter((c) => c.includes('registry-child.js copy'));
    expect(copiers).toEqual(
      copyProcess === 'child' ? [expect.stringContaining('--max-semi-space-size=1')] : [],
    );

    const client = new RegistryClient({ host: target.host, insecure: true });
    try {
      expect(await client.resolveTag('prod/acme/app', 'v1')).toBe(image.digest);
      expect(await client.tagSchemeManifest('prod/acme/app', image.digest, 'sig')).not.toBeNull();
      const att = await client.tagSchemeManifest('prod/acme/app', image.digest, 'att');
      expect(att?.digest).toBe(done.attestation.digest);
      const { publicKey: airlockKey } = (await rig.call('GET', '/v1/audit/checkpoints', { as: 'auditor' }))
        .body;
      const layers = (att!.json as any).layers as any[];
      expect(layers.map((l) => l.annotations.predicateType)).toEqual([PROMOTION_PREDICATE, VSA_PREDICATE]);
      for (const layer of layers) {
        const envelope = JSON.parse(
          (await client.getBlobBytes('prod/acme/app', layer.digest, { maxBytes: 1 << 20 })).toString(),
        );
        const verified = verifyAttestation(
          { envelope },
          {
            digest: image.digest,
            trust: { policy: { keys: [{ name: 'airlock', publicKey: airlockKey }] } },
            policy: {},
          },
        );
        expect(verified.findings[0]).toMatchObject({ signatureVerified: true, aboutArtifact: true });
      }
    } finally {
      client.close();
    }
  });

  it('promotes an index with every platform, and a second time moves no blobs', async () => {
    const env = await environment();
    // ci-app may request only acme/app's artifacts: the index goes there, under a tag of its own.
    const index = await pushIndex(source.host, 'acme/app', 'multi', ['linux/amd64', 'linux/arm64']);
    await sign(index.digest, 'acme/app');
    const promote = async () => {
      const res = await rig.call('POST', '/v1/promotions', {
        token: await rig.token('requester', { fresh: true }),
        body: { artifact: `${source.host}/acme/app@${index.digest}`, environment: env },
      });
      return rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 30_000);
    };
    expect((await promote()).status).toBe('promoted');
    const client = new RegistryClient({ host: target.host, insecure: true });
    try {
      for (const child of index.children) {
        expect((await client.getManifest('prod/acme/app', child.digest)).digest).toBe(child.digest);
      }
    } finally {
      client.close();
    }
    const again = await promote();
    expect(again.status).toBe('promoted');
    await rig.auditSealed();
    const events = await rig.call('GET', `/v1/audit?subjectId=${again.id}&action=promotion.promoted`, {
      as: 'auditor',
    });
    expect(events.body.items[0].details.copy).toMatchObject({ blobsCopied: 0, bytesCopied: 0 });
  });
});
