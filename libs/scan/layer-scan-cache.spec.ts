import { CheckStatus } from '../domain';
import {
  DEFAULT_SECRET_SCAN_LIMITS,
  type LayerScan,
  type LayerScanCache,
  scanLayers,
  type ScanLayer,
} from './secret-scan';
import { layerScanVersion, secretRulesVersion } from './scan-version';
import {
  fakeSecrets,
  fixtureLayer,
  gzip,
  gzipLayer,
  opaqueWhiteout,
  tarLayer,
  truncate,
  whiteout,
} from '../../test/support/layer-fixtures';

/** An in-memory cache that records what was asked and stored, as the Postgres one would answer. */
class MemoryCache implements LayerScanCache {
  readonly rows = new Map<string, LayerScan>();
  puts: string[] = [];
  async get(digests: readonly string[]): Promise<Map<string, LayerScan>> {
    // A stored result goes through JSON, as in a jsonb column.
    return new Map(
      digests
        .filter((d) => this.rows.has(d))
        .map((d) => [d, JSON.parse(JSON.stringify(this.rows.get(d))) as LayerScan]),
    );
  }
  async put(digest: string, scan: LayerScan): Promise<void> {
    this.puts.push(digest);
    this.rows.set(digest, JSON.parse(JSON.stringify(scan)) as LayerScan);
  }
}

/** Counts how often each layer's bytes were opened. */
function counted(layer: ScanLayer, opens: string[]): ScanLayer {
  return { ...layer, open: () => (opens.push(layer.digest), layer.open()) };
}

describe('scanLayers with a layer cache', () => {
  const secrets = fakeSecrets();

  it('reads no layer bytes for an image whose layers were all scanned before, with the same findings', async () => {
    const cache = new MemoryCache();
    const base = await gzipLayer([
      { path: 'etc/app/.env', content: `GITHUB_TOKEN=${secrets.githubToken}\n` },
    ]);
    const app = await gzipLayer([{ path: 'srv/app.js', content: 'console.log(1)\n' }]);
    const opens: string[] = [];
    const first = await scanLayers([counted(base, opens), counted(app, opens)], {}, { cache });
    expect(opens.sort()).toEqual([base.digest, app.digest].sort());
    expect(first.stats.cachedLayers).toBe(0);

    opens.length = 0;
    const again = await scanLayers([counted(base, opens), counted(app, opens)], {}, { cache });
    expect(opens).toEqual([]);
    expect(again.stats.cachedLayers).toBe(2);
    expect(again.findings).toEqual(first.findings);
    expect(again.status).toBe(CheckStatus.Fail);
    expect({ ...again.stats, ms: 0, cachedLayers: 0 }).toEqual({ ...first.stats, ms: 0 });
  });

  it('reads only the new layer of a release on a shared base, and works deletedIn out per image', async () => {
    const cache = new MemoryCache();
    const base = await gzipLayer([
      { path: 'app/.env', content: `GITHUB_TOKEN=${secrets.githubToken}\n` },
      { path: 'root/.ssh/id_ecdsa', content: secrets.privateKeyPem },
    ]);
    const appA = await gzipLayer([{ path: 'srv/a.txt', content: 'a' }]);
    const appB = await gzipLayer([whiteout('app/.env'), opaqueWhiteout('root/.ssh')]);
    const opens: string[] = [];
    const a = await scanLayers([counted(base, opens), counted(appA, opens)], {}, { cache });
    expect(a.findings.every((f) => f.deletedIn === undefined)).toBe(true);

    opens.length = 0;
    const b = await scanLayers([counted(base, opens), counted(appB, opens)], {}, { cache });
    expect(opens).toEqual([appB.digest]);
    expect(b.findings).toHaveLength(2);
    expect(b.findings.every((f) => f.layer === base.digest && f.deletedIn === appB.digest)).toBe(true);

    // The cached base is not changed by image B: A again still has nothing deleted.
    const a2 = await scanLayers([base, appA], {}, { cache });
    expect(a2.findings).toEqual(a.findings);
  });

  it('does not store a layer that could not be read completely', async () => {
    const cache = new MemoryCache();
    const broken = fixtureLayer(truncate(gzip(await tarLayer([{ path: 'a', content: 'x'.repeat(10_000) }]))));
    const r = await scanLayers([broken], {}, { cache });
    expect(r.status).toBe(CheckStatus.Error);
    expect(cache.puts).toEqual([]);
  });

  it('applies maxFindings to the whole image across cached layers', async () => {
    const cache = new MemoryCache();
    const files = (n: number, p: string) =>
      Array.from({ length: n }, (_, i) => ({ path: `${p}${i}`, content: fakeSecrets().githubToken }));
    const l1 = await gzipLayer(files(2, 'a'));
    const l2 = await gzipLayer(files(2, 'b'));
    await scanLayers([l1, l2], { maxFindings: 3 }, { cache });
    const r = await scanLayers([l1, l2], { maxFindings: 3 }, { cache });
    expect(r.stats.cachedLayers).toBe(2);
    expect(r.findings).toHaveLength(3);
    expect(r.stats.findingsDropped).toBe(1);
  });
});

describe('layerScanVersion', () => {
  const limits = { ...DEFAULT_SECRET_SCAN_LIMITS };
  const key = Buffer.from('k'.repeat(32));

  it('is stable for the same rules, limits and key, whatever the time budget', () => {
    expect(layerScanVersion(limits, key)).toBe(layerScanVersion({ ...limits }, Buffer.from(key)));
    const quick = { ...limits, maxScanMillis: 1 };
    expect(layerScanVersion(quick, key)).toBe(layerScanVersion(limits, key));
    expect(layerScanVersion(limits, key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['maxScannedFileBytes', { maxScannedFileBytes: 1024 }],
    ['maxEntries', { maxEntries: 10 }],
    ['maxUncompressedBytes', { maxUncompressedBytes: 1 }],
    ['maxFindings', { maxFindings: 1 }],
    ['maxCompressionRatio', { maxCompressionRatio: 2 }],
  ])('changes with %s', (_, change) => {
    expect(layerScanVersion({ ...limits, ...change }, key)).not.toBe(layerScanVersion(limits, key));
  });

  it('changes with the rules and with the fingerprint key', () => {
    expect(layerScanVersion(limits, key, 'rules-1')).not.toBe(layerScanVersion(limits, key, 'rules-2'));
    expect(layerScanVersion(limits, Buffer.from('other'))).not.toBe(layerScanVersion(limits, key));
    expect(layerScanVersion(limits)).not.toBe(layerScanVersion(limits, key));
  });

  it('derives the rules version from the scan code and rule packages, once per process', () => {
    expect(secretRulesVersion()).toMatch(/^[0-9a-f]{64}$/);
    expect(secretRulesVersion()).toBe(secretRulesVersion());
  });
});
