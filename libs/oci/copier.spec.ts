import { Readable } from 'node:stream';
import { copyManifest, type CopyEndpoint, mountCandidates } from './copier';
import { type RegistryClient } from './registry-client';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** A registry in memory: which repository holds which blob, and every call the copier made. */
function fakeRegistry(
  host: string,
  blobs: Record<string, string[]>,
  manifests: Record<string, string[]> = {},
) {
  const calls: string[] = [];
  const has = (repo: string, d: string) => (blobs[repo] ?? []).includes(d);
  const add = (repo: string, d: string) => (blobs[repo] = [...(blobs[repo] ?? []), d]);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('c'), size: 2 },
    layers: [digest('1'), digest('2')].map((d) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: d,
      size: 3,
    })),
  };
  const client = {
    host,
    getManifest: async () => ({
      json: manifest,
      bytes: Buffer.from(JSON.stringify(manifest)),
      mediaType: OCI_MANIFEST,
      digest: digest('m'),
    }),
    putManifest: async (repo: string, ref: string) => (calls.push(`put manifest ${repo}`), ref),
    authorize: async (repo: string, actions: string, alsoPull: string[] = []) =>
      void calls.push(
        `authorize ${repo} ${actions}${alsoPull.length ? ` and pull ${alsoPull.join(',')}` : ''}`,
      ),
    headManifest: async (repo: string, ref: string) => {
      calls.push(`head manifest ${repo}`);
      return (manifests[repo] ?? []).includes(ref) ? { digest: ref } : null;
    },
    blobExists: async (repo: string, d: string) => (calls.push(`head ${d.slice(7, 8)}`), has(repo, d)),
    mountBlob: async (repo: string, d: string, from: string) => {
      calls.push(`mount ${d.slice(7, 8)} from ${from}`);
      if (!has(from, d)) return false;
      add(repo, d);
      return true;
    },
    getBlob: async (_repo: string, d: string) => (calls.push(`get ${d.slice(7, 8)}`), Readable.from(['abc'])),
    blobUpload: async (repo: string, d: string) => {
      calls.push(`upload ${d.slice(7, 8)}`);
      add(repo, d);
    },
  };
  return { client: client as unknown as RegistryClient, calls, blobs };
}

describe('copyManifest: cross-repository mounts on the target', () => {
  it('mounts blobs another repository of the target holds, and moves only the rest', async () => {
    const src = fakeRegistry('staging', { 'acme/app2': [digest('c'), digest('1'), digest('2')] });
    const dst = fakeRegistry('prod', { 'prod/acme/app': [digest('1')] });
    const source: CopyEndpoint = { client: src.client, repository: 'acme/app2' };
    const target: CopyEndpoint = { client: dst.client, repository: 'prod/acme/app2' };
    const { stats } = await copyManifest(source, target, digest('m'), {
      parallel: 1,
      mountFrom: ['prod/acme/app'],
    });
    expect(stats).toMatchObject({ blobsMounted: 1, blobsCopied: 2, blobsPresent: 0 });
    // One token for the copy, asked for first: push here, pull where blobs may be mounted from.
    expect(dst.calls[0]).toBe('authorize prod/acme/app2 pull,push and pull prod/acme/app');
    expect(dst.calls.filter((c) => c.startsWith('mount') || c.startsWith('upload'))).toEqual([
      'mount c from prod/acme/app',
      'upload c',
      'mount 1 from prod/acme/app',
      'mount 2 from prod/acme/app',
      'upload 2',
    ]);
    // Only what was not mounted was read from the source.
    expect(src.calls).toEqual(['get c', 'get 2']);
  });

  it('tries no mount without candidates, nor for blobs the target repository has', async () => {
    const src = fakeRegistry('staging', {});
    const dst = fakeRegistry('prod', { 'prod/acme/app': [digest('c'), digest('1')] });
    const { stats } = await copyManifest(
      { client: src.client, repository: 'acme/app' },
      { client: dst.client, repository: 'prod/acme/app' },
      digest('m'),
      { parallel: 1 },
    );
    expect(stats).toMatchObject({ blobsMounted: 0, blobsCopied: 1, blobsPresent: 2 });
    expect(dst.calls.some((c) => c.startsWith('mount'))).toBe(false);
  });

  it('never mounts from the target repository itself, and tries each candidate once', () => {
    const target = { client: {} as RegistryClient, repository: 'prod/a' };
    expect(mountCandidates(target, { mountFrom: ['prod/a', 'prod/b', 'prod/b', 'prod/c'] })).toEqual([
      'prod/b',
      'prod/c',
    ]);
    expect(mountCandidates(target, {})).toEqual([]);
  });
});

describe('copyManifest: what it asks the target', () => {
  const source = (src: ReturnType<typeof fakeRegistry>): CopyEndpoint => ({
    client: src.client,
    repository: 'acme/app',
  });

  it('asks for push rights and whether the manifest is there before it looks at any blob', async () => {
    const src = fakeRegistry('staging', {});
    const dst = fakeRegistry('prod', {});
    await copyManifest(source(src), { client: dst.client, repository: 'prod/acme/app' }, digest('m'), {
      parallel: 1,
    });
    expect(dst.calls.slice(0, 3)).toEqual([
      'authorize prod/acme/app pull,push',
      'head manifest prod/acme/app',
      'head c',
    ]);
    expect(dst.calls.at(-1)).toBe('put manifest prod/acme/app');
  });

  it('leaves a manifest the target repository holds as it is: no blob looked at, nothing written', async () => {
    const src = fakeRegistry('staging', {});
    const dst = fakeRegistry('prod', {}, { 'prod/acme/app': [digest('m')] });
    const { stats } = await copyManifest(
      source(src),
      { client: dst.client, repository: 'prod/acme/app' },
      digest('m'),
    );
    expect(stats).toEqual({ manifests: 1, blobsCopied: 0, blobsMounted: 0, blobsPresent: 3, bytesCopied: 0 });
    expect(dst.calls).toEqual(['authorize prod/acme/app pull,push', 'head manifest prod/acme/app']);
    expect(src.calls).toEqual([]);
  });

  it('stops between blobs once its signal is aborted, and writes no manifest', async () => {
    const src = fakeRegistry('staging', {});
    const dst = fakeRegistry('prod', {});
    const controller = new AbortController();
    const uploads = dst.client.blobUpload.bind(dst.client);
    jest.spyOn(dst.client, 'blobUpload').mockImplementation(async (...args) => {
      controller.abort(new Error('stop'));
      return uploads(...args);
    });
    await expect(
      copyManifest(source(src), { client: dst.client, repository: 'prod/acme/app' }, digest('m'), {
        parallel: 1,
        signal: controller.signal,
      }),
    ).rejects.toThrow('stop');
    expect(dst.calls.filter((c) => c.startsWith('upload') || c.startsWith('put'))).toEqual(['upload c']);
  });
});
