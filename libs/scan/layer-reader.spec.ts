import { Readable } from 'node:stream';
import {
  DEFAULT_LAYER_LIMITS,
  displayPath,
  type LayerFile,
  type LayerLimits,
  layerCompression,
  normaliseEntryPath,
  readLayer,
  symlinkEscapes,
} from './layer-reader';
import {
  DOCKER_LAYER_GZIP,
  fixtureLayer,
  gzip,
  gzipBomb,
  LAYER_GZIP,
  LAYER_TAR,
  LAYER_ZSTD,
  opaqueWhiteout,
  sha256Digest,
  tarLayer,
  truncate,
  whiteout,
  zstd,
} from '../../test/support/layer-fixtures';

const MiB = 1024 * 1024;

async function read(
  blob: Buffer,
  mediaType = LAYER_GZIP,
  limits: Partial<LayerLimits> = {},
  digest?: string,
) {
  const files: LayerFile[] = [];
  const result = await readLayer(await fixtureLayer(blob, mediaType).open(), {
    digest: digest ?? sha256Digest(blob),
    mediaType,
    limits: { ...DEFAULT_LAYER_LIMITS, ...limits },
    onFile: (f) => void files.push(f),
  });
  return { ...result, files };
}

describe('path handling', () => {
  it('normalises archive paths to root-relative ones', () => {
    expect(normaliseEntryPath('./etc/passwd')).toEqual({ path: 'etc/passwd' });
    expect(normaliseEntryPath('/etc//ssl/./certs/')).toEqual({ path: 'etc/ssl/certs' });
    expect(normaliseEntryPath('./')).toEqual({ path: '' });
    expect(normaliseEntryPath('../../etc/cron.d/x')).toHaveProperty('problem');
    expect(normaliseEntryPath('usr/../../x')).toHaveProperty('problem');
    expect(normaliseEntryPath('a\0b')).toHaveProperty('problem');
  });

  it('tells symlinks that climb out of the root from ordinary ones', () => {
    expect(symlinkEscapes('usr/bin/python3', 'python3.12')).toBe(false);
    expect(symlinkEscapes('bin', 'usr/bin')).toBe(false);
    expect(symlinkEscapes('etc/alternatives/java', '/usr/lib/jvm/bin/java')).toBe(false);
    expect(symlinkEscapes('usr/lib/x/link', '../../../etc/passwd')).toBe(false);
    expect(symlinkEscapes('usr/lib/x/link', '../../../../etc/passwd')).toBe(true);
    expect(symlinkEscapes('link', '/../../host')).toBe(true);
  });

  it('makes archive strings safe to print', () => {
    expect(displayPath('a\nb\u001b[31m')).toBe('a\\u000ab\\u001b[31m');
    expect(displayPath('x'.repeat(300))).toHaveLength(257);
  });

  it('knows the layer media types', () => {
    expect(layerCompression(LAYER_GZIP)).toBe('gzip');
    expect(layerCompression(DOCKER_LAYER_GZIP)).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')).toBe('gzip');
    expect(layerCompression(LAYER_ZSTD)).toBe('zstd');
    expect(layerCompression(LAYER_TAR)).toBe('none');
    expect(layerCompression('application/vnd.oci.image.config.v1+json')).toBeUndefined();
    expect(layerCompression('application/vnd.cncf.helm.chart.content.v1.tar+gzip')).toBeUndefined();
  });
});

describe('readLayer', () => {
  it('hands over each file whole, larger and smaller ones in turn, a binary between them', async () => {
    // Sizes around zlib's output chunks (256 KiB), so files span chunks and follow larger ones.
    const text = (size: number, seed: number) =>
      Array.from({ length: size }, (_, i) => String.fromCharCode(97 + ((i * 7 + seed) % 26))).join('');
    const files = [
      { path: 'a.txt', content: text(300_000, 1) },
      { path: 'b.txt', content: text(10, 2) },
      { path: 'c.bin', content: Buffer.concat([Buffer.from(text(100, 3)), Buffer.alloc(70_000)]) },
      { path: 'd.txt', content: text(70_000, 4) },
      { path: 'e.txt', content: text(1_000_000, 5) },
      { path: 'f.txt', content: text(65_536, 6) },
    ];
    const r = await read(gzip(await tarLayer(files)));
    expect(r.problems).toEqual([]);
    expect(r.files.map((f) => [f.path, f.content.toString()])).toEqual(
      files.filter((f) => typeof f.content === 'string').map((f) => [f.path, f.content]),
    );
    expect(r.skipped).toEqual({ tooLarge: 0, binary: 1 });
  });

  const entries = [
    { path: './etc/', type: 'directory' as const },
    { path: './etc/app.conf', content: 'key=value\n' },
    { path: '/srv/notes.txt', content: 'hello\n' },
    { path: 'usr/bin/tool', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]) },
    { path: 'usr/share/big.txt', content: 'x'.repeat(5000) },
    { path: 'usr/bin/sh', type: 'symlink' as const, target: '/bin/busybox' },
    whiteout('var/cache/apt/pkgcache.bin'),
    opaqueWhiteout('opt/app'),
  ];

  it.each([
    ['gzip', LAYER_GZIP, gzip],
    ['zstd', LAYER_ZSTD, zstd],
    ['uncompressed', LAYER_TAR, (b: Buffer) => b],
  ])(
    'streams a %s layer: text files handed over, binaries and large files skipped',
    async (_, mt, compress) => {
      const r = await read(compress(await tarLayer(entries)), mt, { maxScannedFileBytes: 4096 });
      expect(r.problems).toEqual([]);
      expect(r.files.map((f) => [f.path, f.content.toString()])).toEqual([
        ['etc/app.conf', 'key=value\n'],
        ['srv/notes.txt', 'hello\n'],
      ]);
      expect(r.skipped).toEqual({ tooLarge: 1, binary: 1 });
      expect(r.whiteouts).toEqual([
        { path: 'var/cache/apt/pkgcache.bin', opaque: false },
        { path: 'opt/app', opaque: true },
      ]);
      expect(r.entries).toBe(entries.length);
      expect(r.uncompressedBytes).toBeGreaterThan(5000);
    },
  );

  it('refuses `../` entries as path traversal', async () => {
    const r = await read(
      gzip(await tarLayer([{ path: '../../etc/cron.d/evil', content: '* * * * * root sh\n' }])),
    );
    expect(r.problems).toEqual([
      expect.objectContaining({ kind: 'path-traversal', path: '../../etc/cron.d/evil' }),
    ]);
    expect(r.files).toEqual([]);
  });

  it('flags symlinks and hard links that leave the root', async () => {
    const r = await read(
      gzip(
        await tarLayer([
          { path: 'app/data', type: 'symlink', target: '../../../host/etc' },
          { path: 'app/passwd', type: 'link', target: '../etc/passwd' },
          { path: 'bin', type: 'symlink', target: 'usr/bin' },
        ]),
      ),
    );
    expect(r.problems.map((p) => [p.kind, p.path])).toEqual([
      ['link-escape', 'app/data'],
      ['link-escape', 'app/passwd'],
    ]);
    expect(r.problems[0].message).toMatch(/outside the image root/);
  });

  it('stops a gzip bomb on the compression ratio', async () => {
    const bomb = await gzipBomb(512 * MiB);
    expect(bomb.length).toBeLessThan(1 * MiB);
    const r = await read(bomb, LAYER_GZIP, { ratioFloorBytes: 4 * MiB, maxCompressionRatio: 200 });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'limit' })]);
    expect(r.problems[0].message).toMatch(/decompression bomb/);
    // The ratio is taken against compressed bytes already buffered ahead of the inflater.
    expect(r.uncompressedBytes).toBeLessThan(128 * MiB);
  });

  it('stops at the uncompressed size limit', async () => {
    const r = await read(await gzipBomb(64 * MiB), LAYER_GZIP, {
      maxUncompressedBytes: 8 * MiB,
      maxEntryBytes: 1024 * MiB,
      maxCompressionRatio: Infinity,
    });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'limit' })]);
    expect(r.problems[0].message).toMatch(/more than 8\.0 MiB \(limit maxUncompressedBytes\)/);
  });

  it('stops at an oversized entry before reading it', async () => {
    const r = await read(await gzipBomb(64 * MiB, 'huge.txt'), LAYER_GZIP, { maxEntryBytes: 16 * MiB });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'limit', path: 'huge.txt' })]);
    expect(r.uncompressedBytes).toBeLessThan(2 * MiB);
  });

  it('stops at the entry count limit', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, content: 'x' }));
    const r = await read(gzip(await tarLayer(many)), LAYER_GZIP, { maxEntries: 10 });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'limit' })]);
    expect(r.problems[0].message).toMatch(/more than 10 entries/);
    expect(r.files).toHaveLength(10);
  });

  it.each([
    [
      'a truncated gzip stream',
      async () => truncate(gzip(await tarLayer([{ path: 'a', content: 'x'.repeat(9000) }]))),
    ],
    [
      'a truncated tar in a whole gzip stream',
      async () => gzip(truncate(await tarLayer([{ path: 'a', content: 'x'.repeat(9000) }]))),
    ],
    ['bytes that are not gzip', async () => Buffer.from('not a layer at all')],
    ['gzip of something that is not tar', async () => gzip(Buffer.alloc(4096, 7))],
  ])('reports %s as malformed', async (_, make) => {
    const r = await read(await make());
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'malformed' })]);
  });

  it.each([
    ['gzip stream', (tar: Buffer) => truncate(gzip(tar))],
    ['tar in a whole gzip stream', (tar: Buffer) => gzip(truncate(tar))],
  ])('says a truncated %s is truncated, not invalid', async (_, make) => {
    const r = await read(make(await tarLayer([{ path: 'a', content: 'x'.repeat(9000) }])));
    expect(r.problems[0].message).toMatch(/^the layer is truncated: its gzip-compressed tar archive ends/);
  });

  it('reports a zstd blob labelled gzip as malformed', async () => {
    const r = await read(zstd(await tarLayer([{ path: 'a', content: 'x' }])), LAYER_GZIP);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'malformed' })]);
    expect(r.problems[0].message).toMatch(/not a valid gzip-compressed tar archive/);
  });

  it('checks the bytes against the digest', async () => {
    const blob = gzip(await tarLayer([{ path: 'a', content: 'x' }]));
    const r = await read(blob, LAYER_GZIP, {}, `sha256:${'0'.repeat(64)}`);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'digest-mismatch' })]);
  });

  it('refuses media types that are not tar layers', async () => {
    const r = await read(Buffer.from('{}'), 'application/vnd.oci.image.config.v1+json');
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'unsupported-media-type' })]);
  });

  it('tells a transfer cut off from a malformed archive', async () => {
    const blob = gzip(await tarLayer([{ path: 'a', content: 'x'.repeat(200_000) }]));
    async function* broken() {
      yield blob.subarray(0, 1000);
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('socket hang up');
    }
    const r = await readLayer(Readable.from(broken()), {
      digest: sha256Digest(blob),
      mediaType: LAYER_GZIP,
      limits: DEFAULT_LAYER_LIMITS,
      onFile: () => undefined,
    });
    expect(r.problems).toEqual([
      expect.objectContaining({
        kind: 'read-failed',
        message: 'the layer could not be fetched to the end: socket hang up',
      }),
    ]);
  });

  it('turns a failing file callback into a problem, not a crash', async () => {
    const blob = gzip(await tarLayer([{ path: 'a', content: 'x' }]));
    const r = await readLayer(Readable.from([blob]), {
      digest: sha256Digest(blob),
      mediaType: LAYER_GZIP,
      limits: DEFAULT_LAYER_LIMITS,
      onFile: () => {
        throw new Error('boom');
      },
    });
    expect(r.problems).toEqual([
      expect.objectContaining({ kind: 'read-failed', message: 'scanning the layer failed: boom' }),
    ]);
  });
});
