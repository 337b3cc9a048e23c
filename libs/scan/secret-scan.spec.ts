import { CheckStatus } from '../domain';
import { scanLayers, summariseSecretScan } from './secret-scan';
import {
  DOCKER_LAYER_GZIP,
  fakeSecrets,
  fixtureLayer,
  gzip,
  gzipBomb,
  gzipLayer,
  opaqueWhiteout,
  secretFiles,
  tarLayer,
  truncate,
  whiteout,
  zstdLayer,
} from '../../test/support/layer-fixtures';

const MiB = 1024 * 1024;

const base = [
  { path: 'etc/os-release', content: 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n' },
  { path: 'usr/bin', type: 'directory' as const },
  { path: 'bin', type: 'symlink' as const, target: 'usr/bin' },
  { path: 'usr/bin/true', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]) },
];

describe('scanLayers', () => {
  const secrets = fakeSecrets();
  const planted = secretFiles(secrets);

  it('finds every planted kind of secret and never stores one', async () => {
    const layer = await gzipLayer([...base, ...planted.map(({ path, content }) => ({ path, content }))]);
    const result = await scanLayers([layer]);
    expect(result.problems).toEqual([]);
    expect(result.status).toBe(CheckStatus.Fail);
    for (const p of planted)
      expect(result.findings).toContainEqual(
        expect.objectContaining({ rule: p.rule, path: p.path, layer: layer.digest }),
      );
    const json = JSON.stringify(result);
    for (const p of planted) {
      expect(json).not.toContain(p.secret);
      // Nor a recognisable piece of its middle (a preview shows at most 4 + 4 characters).
      const mid = Math.floor(p.secret.length / 2);
      expect(json).not.toContain(p.secret.slice(mid - 5, mid + 5));
    }
    expect(json).not.toContain(Buffer.from(secrets.dockerAuth, 'base64').toString().split(':')[1]);
    expect(result.stats).toMatchObject({ layers: 1, scannedFiles: planted.length + 1, skippedBinary: 1 });
    expect(summariseSecretScan(result)).toMatch(
      new RegExp(`^${result.findings.length} secrets found in 1 layer`),
    );
  });

  it('still reports a secret that a later layer deletes', async () => {
    const env = { path: 'app/.env', content: `GITHUB_TOKEN=${secrets.githubToken}\n` };
    const key = { path: 'root/.ssh/id_ecdsa', content: secrets.privateKeyPem };
    const l1 = await gzipLayer([...base, env, key]);
    const l2 = await gzipLayer([whiteout('app/.env'), opaqueWhiteout('root/.ssh')]);
    const result = await scanLayers([l1, l2]);
    expect(result.status).toBe(CheckStatus.Fail);
    expect(result.findings).toEqual([
      expect.objectContaining({
        rule: 'github/GITHUB_TOKEN',
        path: 'app/.env',
        layer: l1.digest,
        deletedIn: l2.digest,
      }),
      expect.objectContaining({ rule: 'privatekey/PrivateKey', layer: l1.digest, deletedIn: l2.digest }),
    ]);
  });

  it('scans zstd and Docker gzip layers', async () => {
    const z = await zstdLayer([{ path: 'srv/ci.sh', content: `export NPM_TOKEN=${secrets.gitlabToken}\n` }]);
    const d = await gzipLayer(
      [{ path: 'srv/app.yaml', content: `jwt: ${secrets.jwt}\n` }],
      DOCKER_LAYER_GZIP,
    );
    const result = await scanLayers([z, d]);
    expect(result.findings.map((f) => [f.layer, f.rule])).toEqual([
      [z.digest, 'gitlab/GITLAB_PERSONAL_ACCESS_TOKEN'],
      [d.digest, 'pattern/jwt'],
    ]);
  });

  it('says how many files were too large to read', async () => {
    const r = await scanLayers([await gzipLayer([{ path: 'big.js', content: 'x'.repeat(70_000) }])], {
      maxScannedFileBytes: 64 * 1024,
    });
    expect(summariseSecretScan(r)).toBe(
      'no secrets found in 1 layer (0 files scanned; 1 over the size limit not read)',
    );
  });

  it('ends with a limit problem, not a pass, when the scan runs out of time', async () => {
    const layer = await gzipLayer([
      { path: 'a.txt', content: 'one' },
      { path: 'b.txt', content: 'two' },
    ]);
    const r = await scanLayers([layer], { maxScanMillis: -1 });
    expect(r.status).toBe(CheckStatus.Error);
    expect(r.problems).toEqual([
      expect.objectContaining({
        kind: 'limit',
        message: expect.stringMatching(/took longer than .* \(limit maxScanMillis\)/),
      }),
    ]);
  });

  it('passes a clean image', async () => {
    const result = await scanLayers([
      await gzipLayer(base),
      await zstdLayer([{ path: 'srv/a.txt', content: 'hi' }]),
    ]);
    expect(result).toMatchObject({ status: CheckStatus.Pass, findings: [], problems: [] });
    expect(result.stats.entries).toBe(base.length + 1);
    expect(summariseSecretScan(result)).toBe('no secrets found in 2 layers (2 files scanned)');
  });

  it('ends as error on a gzip bomb, keeping what other layers showed', async () => {
    const leaky = await gzipLayer([{ path: 'app/.env', content: `GITHUB_TOKEN=${secrets.githubToken}\n` }]);
    const bomb = fixtureLayer(await gzipBomb(256 * MiB));
    const result = await scanLayers([leaky, bomb], { ratioFloorBytes: 8 * MiB, maxCompressionRatio: 100 });
    expect(result.status).toBe(CheckStatus.Error);
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'limit', layer: bomb.digest })]);
    expect(result.findings).toHaveLength(1);
    expect(summariseSecretScan(result)).toMatch(
      /^the secret scan could not read every layer: the layer decompresses more than 100:1 .*; 1 secret found in what was read$/,
    );
  });

  it.each([
    [
      'a `../` entry',
      async () => gzipLayer([{ path: '../etc/profile.d/x.sh', content: 'echo hi' }]),
      'path-traversal',
    ],
    [
      'a symlink out of the root',
      async () => gzipLayer([{ path: 'a/b', type: 'symlink', target: '../../x' }]),
      'link-escape',
    ],
    ['a truncated archive', async () => fixtureLayer(truncate(gzip(await tarLayer(base)))), 'malformed'],
    ['a malformed archive', async () => fixtureLayer(gzip(Buffer.from('{"not":"tar"}'))), 'malformed'],
    [
      'a layer that cannot be fetched',
      async () => ({ ...(await gzipLayer(base)), open: () => Promise.reject(new Error('503')) }),
      'read-failed',
    ],
  ] as const)('ends as error on %s', async (_, make, kind) => {
    const result = await scanLayers([await make()]);
    expect(result.status).toBe(CheckStatus.Error);
    expect(result.problems).toEqual([expect.objectContaining({ kind })]);
  });

  it('keeps at most maxFindings findings and counts the rest', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({
      path: `k${i}`,
      content: fakeSecrets().githubToken,
    }));
    const result = await scanLayers([await gzipLayer(files)], { maxFindings: 2 });
    expect(result.status).toBe(CheckStatus.Fail);
    expect(result.findings).toHaveLength(2);
    expect(result.stats.findingsDropped).toBe(3);
  });

  it('scans a layer listed twice once', async () => {
    const l = await gzipLayer([{ path: 'k', content: secrets.githubToken }]);
    const result = await scanLayers([l, l]);
    expect(result.findings).toHaveLength(1);
  });
});
