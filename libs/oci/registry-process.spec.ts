import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Failure } from '../domain/failure';
import { CopyCancelledError } from './process-protocol';
import { RegistryProcessPool, type RegistryEndpoint } from './registry-process';
import { RegistryError } from './errors';

/**
 * A stand-in for registry-child.js speaking the same protocol (the real one is compiled, and runs
 * in the promoter and scans e2e tests). What it does with a copy is chosen by the copy's digest,
 * with a scan by its first layer's.
 */
const FAKE_CHILD = `
let cancels = 0;
const usage = () => ({ pid: process.pid, peakRss: 1, cpuMs: 0, arrayBuffersPeak: 0, heapUsedPeak: 0 });
const done = (id, note) => process.send({
  type: 'done', id, usage: usage(),
  result: {
    manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: note, base64: Buffer.from('{}').toString('base64') },
    attestationLayers: [],
    stats: { manifests: cancels, blobsCopied: 0, blobsMounted: 0, blobsPresent: 0, bytesCopied: 0 },
  },
});
const asked = new Map();
const scans = new Map();
process.on('message', (m) => {
  if (m.type === 'token') {
    const id = asked.get(m.question);
    if (scans.has(id) && m.token !== undefined) {
      process.send({ type: 'layer', id, digest: 'token:' + m.token, scan: scans.get(id) });
      process.send({ type: 'scanned', id, usage: usage() });
    } else if (m.token !== undefined) done(id, 'token:' + m.token);
    else process.send({ type: 'failed', id, usage: usage(), error: m.error.name === 'Opaque'
      ? { name: 'Failure', permanent: false, message: 'supplier failed: ' + m.error.errorName + ' ' + (m.error.code ?? '') }
      : m.error });
    return;
  }
  if (m.type === 'cancel') {
    cancels += 1;
    if (!stuck) process.send({ type: 'failed', id: m.id, usage: usage(), error: { name: 'Cancelled', message: 'cancelled' } });
    return;
  }
  stuck = false;
  if (m.type === 'scan') {
    const scan = (digest) => ({ findings: [], findingsDropped: 0, whiteouts: [], problems: [], compressedBytes: 1,
      bytes: digest.length, entries: 1, scannedFiles: 1, skippedLarge: 0, skippedBinary: 0 });
    const first = m.layers[0].digest;
    if (first === 'hang') return;
    if (first === 'token') {
      asked.set(7, m.id);
      scans.set(m.id, scan('token'));
      process.send({ type: 'token', id: m.id, question: 7, side: 'source', scope: 'repository:acme/app:pull', challenge: { realm: 'https://auth.example.com/token' } });
      return;
    }
    for (const l of m.layers) {
      process.send({ type: 'layer', id: m.id, digest: l.digest, scan: scan(l.digest) });
      if (first === 'crash') process.exit(3);
    }
    process.send({ type: 'scanned', id: m.id, usage: usage() });
    return;
  }
  switch (m.digest) {
    case 'crash': process.exit(3);
    case 'token':
      asked.set(7, m.id);
      process.send({ type: 'token', id: m.id, question: 7, side: 'target', scope: 'repository:prod/app:pull,push', challenge: { realm: 'https://auth.example.com/token', service: 'registry' } });
      return;
    case 'refused':
      process.send({ type: 'failed', id: m.id, usage: usage(), error: { name: 'RegistryError', kind: 'denied', message: 'no push', permanent: true, registry: 'prod.example.com', status: 403 } });
      return;
    case 'env': done(m.id, 'env:' + Object.keys(process.env).sort().join(',')); return;
    case 'hang': return;
    case 'stuck': stuck = true; return;
    default: done(m.id, m.digest);
  }
});
let stuck = false;
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
`;

/** Waits for a state the processes reach by themselves (no time is asserted). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe(RegistryProcessPool.name, () => {
  let dir: string;
  let entry: string;
  const pools: RegistryProcessPool[] = [];
  const pool = (
    options: { cancelGraceMs?: number; env?: Record<string, string>; maxProcesses?: number } = {},
  ): RegistryProcessPool => {
    const p = new RegistryProcessPool({ role: 'copy', entry, execArgv: [], ...options });
    pools.push(p);
    return p;
  };
  const supplied: Array<{ scope: string; realm: string; service?: string }> = [];
  let supply: () => Promise<string>;
  const source: RegistryEndpoint = {
    registry: { host: 'staging.example.com', credentials: { username: 'u', password: 'p' } },
    repository: 'acme/app',
  };
  const target: RegistryEndpoint = {
    registry: {
      host: 'prod.example.com',
      credentials: {
        tokenSupplier: (scope, challenge) => {
          supplied.push({ scope, ...challenge });
          return supply();
        },
      },
    },
    repository: 'prod/app',
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-registry-process-'));
    entry = join(dir, 'fake-registry-child.js');
    writeFileSync(entry, FAKE_CHILD);
  });
  afterEach(() => {
    for (const p of pools.splice(0)) p.close();
    supplied.length = 0;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs copies in one process, kept between copies instead of forked again', async () => {
    const p = pool();
    const first = await p.copy(source, target, 'sha256:one');
    const second = await p.copy(source, target, 'sha256:two');
    expect(first.manifest).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:one',
      bytes: Buffer.from('{}'),
    });
    expect([first.forked, second.forked]).toEqual([true, false]);
    expect(second.usage.pid).toBe(first.usage.pid);
    expect(p.processes).toEqual({ busy: 0, idle: 1, waiting: 0 });
  });

  it('gives the copy process only the environment it is given', async () => {
    // What the worker passes (childProcessEnvironment): never its database URL or secrets.
    const result = await pool({ env: { PATH: '/usr/bin', TZ: 'UTC' } }).copy(source, target, 'env');
    expect(result.manifest.digest).toBe('env:PATH,TZ');
  });

  it('answers the copy process’s token questions with the side’s supplier, which stays here', async () => {
    supply = async () => 'the-token';
    const result = await pool().copy(source, target, 'token');
    expect(supplied).toEqual([
      {
        scope: 'repository:prod/app:pull,push',
        realm: 'https://auth.example.com/token',
        service: 'registry',
      },
    ]);
    expect(result.manifest.digest).toBe('token:the-token');
  });

  it('passes a supplier’s refusal as the RegistryError it was, and only the class of any other error', async () => {
    const p = pool();
    supply = async () => {
      throw new RegistryError('unauthorized', 'the issuer refused the client', { permanent: true });
    };
    const refused = await p.copy(source, target, 'token').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryError);
    expect(refused).toMatchObject({
      kind: 'unauthorized',
      permanent: true,
      message: 'the issuer refused the client',
    });

    supply = async () => {
      throw Object.assign(new TypeError('assertion eyJhbGciOi... was rejected'), { code: 'E_GRANT' });
    };
    const opaque = await p.copy(source, target, 'token').catch((e: unknown) => e);
    expect((opaque as Error).message).toBe('supplier failed: TypeError E_GRANT');
  });

  it('rebuilds the copy’s own error with its kind and permanence', async () => {
    const error = await pool()
      .copy(source, target, 'refused')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      kind: 'denied',
      permanent: true,
      registry: 'prod.example.com',
      status: 403,
    });
  });

  it('fails the copy as transient when its process dies, and forks a new one for the next', async () => {
    const p = pool();
    const error = await p.copy(source, target, 'crash').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Failure);
    expect(error).toMatchObject({ permanent: false });
    expect((error as Error).message).toMatch(
      /registry process ended \(exit code 3\) during the copy of crash/,
    );
    expect(p.processes).toEqual({ busy: 0, idle: 0, waiting: 0 });
    const next = await p.copy(source, target, 'sha256:after');
    expect(next.forked).toBe(true);
  });

  it('cancels a copy: the caller is answered at once, the process stops the copy and is kept', async () => {
    const p = pool();
    await p.copy(source, target, 'sha256:started');
    const controller = new AbortController();
    const running = p.copy(source, target, 'hang', { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => p.processes.busy === 1);
    controller.abort();
    const error = await running;
    expect(error).toBeInstanceOf(CopyCancelledError);
    expect(error).toMatchObject({ permanent: false });
    // The process heard the cancel (it counts them in its next result) and took the next copy.
    await until(() => p.processes.idle === 1);
    const next = await p.copy(source, target, 'sha256:next');
    expect(next.forked).toBe(false);
    expect(next.stats.manifests).toBe(1);
  });

  it('kills a process that does not stop a cancelled copy within the grace period', async () => {
    const p = pool({ cancelGraceMs: 100 });
    await p.copy(source, target, 'sha256:started');
    const controller = new AbortController();
    const running = p.copy(source, target, 'stuck', { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => p.processes.busy === 1);
    controller.abort();
    expect(await running).toBeInstanceOf(CopyCancelledError);
    await until(() => p.processes.busy === 0);
    expect(p.processes).toEqual({ busy: 0, idle: 0, waiting: 0 });
  });

  it('cancels a copy whose process is still starting without sending it', async () => {
    const p = pool();
    const controller = new AbortController();
    const running = p.copy(source, target, 'hang', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await running).toBeInstanceOf(CopyCancelledError);
    const next = await p.copy(source, target, 'sha256:next');
    expect([next.forked, next.stats.manifests]).toEqual([false, 0]);
  });

  it('refuses a copy whose signal is already aborted, and any copy once closed', async () => {
    const p = pool();
    await expect(p.copy(source, target, 'sha256:x', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      CopyCancelledError,
    );
    p.close();
    await expect(p.copy(source, target, 'sha256:x')).rejects.toThrow('the worker is stopping');
    expect(p.processes).toEqual({ busy: 0, idle: 0, waiting: 0 });
  });

  it('keeps at most maxProcesses at work: the next task waits its turn, and may be cancelled while it waits', async () => {
    const p = pool({ maxProcesses: 1 });
    const first = new AbortController();
    const hanging = p.copy(source, target, 'hang', { signal: first.signal }).catch((e: unknown) => e);
    await until(() => p.processes.busy === 1);
    const second = p.copy(source, target, 'sha256:second');
    const given = new AbortController();
    const givenUp = p.copy(source, target, 'sha256:never', { signal: given.signal }).catch((e: unknown) => e);
    await until(() => p.processes.waiting === 2);
    expect(p.processes.busy).toBe(1);
    given.abort();
    expect(await givenUp).toBeInstanceOf(CopyCancelledError);
    expect(p.processes.waiting).toBe(1);
    // The first ends (cancelled): its process goes to the task that waited.
    first.abort();
    expect(await hanging).toBeInstanceOf(CopyCancelledError);
    const done = await second;
    expect([done.manifest.digest, done.forked]).toEqual(['sha256:second', false]);
    expect(p.processes).toEqual({ busy: 0, idle: 1, waiting: 0 });
  });

  describe('secret scans', () => {
    const layers = (...digests: string[]) => ({
      layers: digests.map((digest) => ({
        digest,
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        size: 1,
      })),
      limits: {},
      concurrency: 2,
    });

    it('hands over each layer as it ends and answers once every handler has, keeping the process', async () => {
      const p = pool();
      const seen: string[] = [];
      const account = await p.scan(source, layers('sha256:a', 'sha256:bb'), async (digest, scan) => {
        // The answer waits for this (the worker stores each layer's result in its cache).
        await new Promise((r) => setTimeout(r, 20));
        seen.push(`${digest} ${scan.bytes}`);
      });
      expect(seen).toEqual(['sha256:a 8', 'sha256:bb 9']);
      expect(account).toMatchObject({ forked: true, usage: { peakRss: 1 } });
      expect(p.processes).toEqual({ busy: 0, idle: 1, waiting: 0 });
    });

    it('asks the source’s supplier for tokens, which stays here', async () => {
      const p = pool();
      const asking: RegistryEndpoint = {
        ...source,
        registry: {
          host: 'staging.example.com',
          credentials: { tokenSupplier: async (scope) => (supplied.push({ scope, realm: '' }), 'x') },
        },
      };
      const seen: string[] = [];
      await p.scan(asking, layers('token'), async (digest) => void seen.push(digest));
      expect(supplied.map((s) => s.scope)).toEqual(['repository:acme/app:pull']);
      expect(seen).toEqual(['token:x']);
    });

    it('fails a scan as transient when its process dies, after the layers it reported', async () => {
      const p = pool();
      const seen: string[] = [];
      const error = await p
        .scan(source, layers('crash', 'sha256:never'), async (digest) => void seen.push(digest))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Failure);
      expect(error).toMatchObject({ permanent: false });
      expect((error as Error).message).toMatch(/during the secret scan of 2 layer\(s\) of acme\/app/);
      expect(seen).toEqual(['crash']);
    });

    it('stops a scan past its deadline: transient, and the process (which heard it) is kept', async () => {
      const p = pool();
      const error = await p
        .scan(source, layers('hang'), async () => undefined, { deadlineMs: 100 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Failure);
      expect(error).toMatchObject({ permanent: false });
      expect((error as Error).message).toMatch(
        /of acme\/app did not end within 0.1 s; its process was stopped/,
      );
      await until(() => p.processes.idle === 1);
    });

    it('fails a scan whose layer handler fails (the cache could not store a result)', async () => {
      const error = await pool()
        .scan(source, layers('sha256:a'), async () => {
          throw new Error('the database is away');
        })
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('the database is away');
    });
  });
});
