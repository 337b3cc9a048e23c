import { randomBytes } from 'node:crypto';
import { pushImage } from '../support/oci-images';
import { PromoterRig } from '../support/promoter-rig';
import { Rig } from '../support/rig';

/**
 * Cross-repository mounts on the target: a second repository that shares a base image with one
 * Airlock promoted to before gets the base's blobs by mount (no bytes move), as skopeo does.
 */
describe('promoter: mounts from other target repositories', () => {
  const REPO = 'acme/app';
  const uid = (): string => randomBytes(3).toString('hex');
  let rig: Rig;
  let pr: PromoterRig;

  beforeAll(async () => {
    pr = await PromoterRig.start();
    rig = await Rig.start({
      AIRLOCK_SECRETS_DIR: pr.secretsDir,
      WORKER_QUEUES: 'checks,promote,maintenance',
    });
    await rig.trustIssuer(pr.issuer);
  }, 300_000);
  afterAll(async () => {
    await rig?.stop();
    await pr?.stop();
  });

  async function environment(targetRepository: string): Promise<string> {
    const name = `mount-${uid()}`;
    await rig.trustChange('POST', '/v1/environments', {
      name,
      sources: pr.sources(['acme/*'], pr.profile()),
      target: pr.targetMapping(pr.profile(), targetRepository),
    });
    const v = await rig.call('POST', `/v1/environments/${name}/policies`, {
      as: 'admin',
      body: { document: { approvals: { required: 0 } } },
    });
    expect(v.status).toBe(201);
    const a = await rig.call('POST', `/v1/environments/${name}/policies/${v.body.version}/activate`, {
      as: 'admin2',
    });
    expect(a.status).toBe(200);
    return name;
  }

  async function promote(digest: string, env: string): Promise<any> {
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${pr.source.host}/${REPO}@${digest}`, environment: env },
    });
    expect(res.status).toBe(201);
    const p = await rig.waitForStatus(res.body.id, ['promoted', 'failed', 'rejected'], 60_000);
    expect(`${p.status} ${JSON.stringify(p.reasons)}`).toMatch(/^promoted /);
    return p;
  }

  it('mounts the shared base from the repository promoted to before; only the new layer moves', async () => {
    const base = { 'usr/lib/base.bin': randomBytes(256 * 1024) };
    const push = async (tag: string) =>
      pushImage(pr.source.directHost, REPO, tag, {
        files: [base, { 'srv/app.bin': randomBytes(64 * 1024) }],
        auth: await pr.pushAuth(pr.source, REPO),
      });
    const first = await push(`first-${uid()}`);
    const second = await push(`second-${uid()}`);
    expect(second.layers[0].digest).toBe(first.layers[0].digest);
    const baseDigest = first.layers[0].digest;
    const suffix = uid();
    await promote(first.digest, await environment(`prod-${suffix}/{repository}`));

    pr.resetObservations();
    const otherRepo = `other-${suffix}/${REPO}`;
    const p = await promote(second.digest, await environment(`other-${suffix}/{repository}`));
    expect(p.digest).toBe(second.digest);

    // The base layer: mounted from the first repository, never uploaded nor read from the source.
    const mounts = pr.target.requests
      .filter(
        (r) =>
          r.method === 'POST' &&
          r.token !== undefined &&
          r.path.startsWith(`/v2/${otherRepo}/blobs/uploads/`) &&
          r.path.includes('mount='),
      )
      .map((r) => new URL(r.path, 'http://x').searchParams);
    expect(mounts).toContainEqual(new URLSearchParams({ mount: baseDigest, from: `prod-${suffix}/${REPO}` }));
    const uploaded = pr.target.uploads.map((u) => u.digest);
    expect(uploaded).not.toContain(baseDigest);
    expect(uploaded).toContain(second.layers[1].digest);
    expect(
      pr.source.requests.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${baseDigest}`)),
    ).toEqual([]);
    const target = pr.client(pr.target);
    try {
      expect(await target.blobExists(otherRepo, baseDigest)).toBe(true);
      expect((await target.getManifest(otherRepo, second.digest)).digest).toBe(second.digest);
    } finally {
      target.close();
    }
  });
});
