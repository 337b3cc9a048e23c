import { randomBytes } from 'node:crypto';
import { fakeSecrets, gzip, LAYER_GZIP, tarLayer, whiteout } from '../support/layer-fixtures';
import { pushLayers, sha256 } from '../support/oci-images';
import {
  startRegistry,
  startRegistryProxy,
  type RegistryHandle,
  type RegistryProxy,
} from '../support/registry';
import { Rig } from '../support/rig';
import { SecretScanCacheRepository } from '../../libs/core/scans/secret-scan-cache.repository';
import { type LayerScan } from '../../libs/scan';
import { type DataSource } from 'typeorm';
import { insecureSource } from '../support/trust-fixtures';

/**
 * The secret scan's layer cache end to end: the built worker scanning through a recording proxy,
 * so what it reads of each layer is counted at the registry's door; layers read in its scan
 * process (the default) or in the worker itself.
 */
describe.each(['child', 'inline'])('secret scan cache (SECRET_SCAN_PROCESS=%s)', (scanProcess) => {
  const REPO = 'acme/app';
  const unique = () => randomBytes(3).toString('hex');
  let rig: Rig;
  let registry: RegistryHandle;
  let proxy: RegistryProxy;

  beforeAll(async () => {
    [rig, registry] = await Promise.all([
      Rig.start({ WORKER_JOB_ATTEMPTS: '1', SECRET_SCAN_PROCESS: scanProcess }),
      startRegistry(),
    ]);
    proxy = await startRegistryProxy(registry.host);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([rig?.stop(), proxy?.stop(), registry?.stop()]);
  });

  async function promote(digest: string): Promise<any> {
    const env = `cache-${unique()}`;
    await rig.environment(
      env,
      { approvals: { required: 0 }, scans: { secrets: {} } },
      insecureSource(proxy.host),
    );
    const res = await rig.call('POST', '/v1/promotions', {
      token: await rig.token('requester', { fresh: true }),
      body: { artifact: `${proxy.host}/${REPO}@${digest}`, environment: env },
    });
    expect(res.status).toBe(201);
    return rig.waitForStatus(res.body.id, ['approved', 'rejected', 'failed', 'awaiting_approval'], 30_000);
  }

  /** Blob GETs of these layers the worker sent since `from` (index into the proxy's requests). */
  const layerReads = (from: number, digests: string[]) =>
    proxy.requests
      .slice(from)
      .filter((r) => r.method === 'GET' && digests.some((d) => r.path.endsWith(`/blobs/${d}`)))
      .map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));

  const secretsCheck = (p: any) => (p.checks as any[]).find((c) => c.kind === 'secrets');

  it('reads no layer of an image scanned before, and only the new layer of a release on the same base', async () => {
    const s = fakeSecrets();
    const base1 = gzip(await tarLayer([{ path: 'app/.env', content: `GITHUB_TOKEN=${s.githubToken}\n` }]));
    const base2 = gzip(await tarLayer([{ path: 'usr/share/doc/x.txt', content: `base ${unique()}\n` }]));
    const appA = gzip(await tarLayer([{ path: 'srv/a.js', content: `console.log('${unique()}')\n` }]));
    const appB = gzip(await tarLayer([whiteout('app/.env'), { path: 'srv/b.js', content: 'b()\n' }]));
    const [d1, d2, dA, dB] = [base1, base2, appA, appB].map(sha256);
    const layers = (app: Buffer) => [base1, base2, app].map((bytes) => ({ bytes, mediaType: LAYER_GZIP }));
    const imageA = await pushLayers(registry.host, REPO, `a-${unique()}`, layers(appA));
    const imageB = await pushLayers(registry.host, REPO, `b-${unique()}`, layers(appB));

    let mark = proxy.requests.length;
    const first = await promote(imageA.digest);
    expect(first.status).toBe('rejected');
    expect(layerReads(mark, [d1, d2, dA, dB]).sort()).toEqual([d1, d2, dA].sort());
    const firstFindings = secretsCheck(first).findings;
    expect(firstFindings).toEqual([
      expect.objectContaining({ rule: 'github/GITHUB_TOKEN', path: 'app/.env', layer: d1 }),
    ]);
    expect(firstFindings[0].deletedIn).toBeUndefined();

    // The same image again: every layer's result comes from the cache, the registry sends no layer.
    mark = proxy.requests.length;
    const again = await promote(imageA.digest);
    expect(layerReads(mark, [d1, d2, dA, dB])).toEqual([]);
    expect(again.status).toBe('rejected');
    expect(secretsCheck(again).findings).toEqual(firstFindings);

    // A release on the same base: only its new layer is read; the cached base's finding is there in
    // full, deleted by the new layer in this image.
    mark = proxy.requests.length;
    const release = await promote(imageB.digest);
    expect(layerReads(mark, [d1, d2, dA, dB])).toEqual([dB]);
    expect(secretsCheck(release).findings).toEqual([
      expect.objectContaining({ ...firstFindings[0], deletedIn: dB }),
    ]);

    const rows = await rig.sql(
      'SELECT digest FROM secret_scan_layer WHERE digest = ANY($1::text[]) ORDER BY digest',
      [[d1, d2, dA, dB]],
    );
    expect(rows.map((r: any) => r.digest)).toEqual([d1, d2, dA, dB].sort());
  });

  it('reads the layers again when the rules or limits change (another version)', async () => {
    const layer = gzip(await tarLayer([{ path: 'srv/c.txt', content: `c ${unique()}\n` }]));
    const d = sha256(layer);
    const image = await pushLayers(registry.host, REPO, `c-${unique()}`, [
      { bytes: layer, mediaType: LAYER_GZIP },
    ]);
    await promote(image.digest);
    // As a deployment with other rules or limits would have stored it: the row is of another version.
    await rig.sql(`UPDATE secret_scan_layer SET version = repeat('0', 64) WHERE digest = $1`, [d]);
    const mark = proxy.requests.length;
    const p = await promote(image.digest);
    expect(p.status).toBe('approved');
    expect(layerReads(mark, [d])).toEqual([d]);
  });

  it('is bounded: least recently used rows beyond the limit and rows of other versions go', async () => {
    // The repository on the test database, through the rig's own connection.
    const repo = new SecretScanCacheRepository({
      query: (q: string, params?: unknown[]) => rig.sql(q, params),
    } as unknown as DataSource);
    const scan: LayerScan = {
      findings: [],
      findingsDropped: 0,
      whiteouts: [{ path: 'x', opaque: false }],
      problems: [],
      compressedBytes: 1,
      bytes: 2,
      entries: 1,
      scannedFiles: 0,
      skippedLarge: 0,
      skippedBinary: 0,
    };
    const v1 = 'a'.repeat(64);
    const v2 = 'b'.repeat(64);
    const digest = (i: number) => `sha256:${String(i).padStart(64, '0')}`;
    const old = repo.forVersion(v1, 1000);
    await old.put(digest(100), scan);
    expect((await old.get([digest(100), digest(101)])).get(digest(100))).toEqual(scan);

    // Another version (rules or limits changed): its first write removes every row of the old one.
    const cache = repo.forVersion(v2, 3);
    for (const i of [1, 2, 3]) await cache.put(digest(i), scan);
    expect(await rig.sql('SELECT 1 FROM secret_scan_layer WHERE version = $1', [v1])).toEqual([]);
    expect((await old.get([digest(100)])).size).toBe(0);
    // Digest 1 used again, then a prune at the bound of 2: digest 2 (least recently used) goes.
    await rig.sql(`UPDATE secret_scan_layer SET used_at = now() - interval '1 hour' WHERE version = $1`, [
      v2,
    ]);
    await cache.get([digest(1)]);
    await rig.sql(
      `UPDATE secret_scan_layer SET used_at = now() - interval '30 minutes' WHERE version = $1 AND digest = $2`,
      [v2, digest(3)],
    );
    await repo.prune(v2, 2);
    const left = await rig.sql('SELECT digest FROM secret_scan_layer WHERE version = $1 ORDER BY digest', [
      v2,
    ]);
    expect(left.map((r: any) => r.digest)).toEqual([digest(1), digest(3)]);
    // A cache turned off finds nothing and keeps nothing.
    const off = repo.forVersion(v2, 0);
    expect((await off.get([digest(1)])).size).toBe(0);
  });
});
