// A registry that lies, for tests: node:http on loopback speaking just enough of the distribution
// API for intake (tag resolution) and the check stage (the image manifest, cosign's `.sig`, the
// referrers fallback, blobs), each repository misbehaving in one way. Nothing here is a real
// registry's bug; each is what a compromised or broken registry can send.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { OCI_MANIFEST, sha256 } from './oci-images';

/** One misbehaviour per repository (`acme/<scenario>`). */
export const HOSTILE_SCENARIOS = [
  /** Behaves: the control. */
  'good',
  /** The manifest by digest is 5 MiB (no Content-Length: it streams until refused). */
  'oversized-manifest',
  /** The manifest by digest is other bytes than the digest names (valid JSON all the same). */
  'substituted-manifest',
  /** Every request gets a Bearer challenge whose realm is a host nobody allowed. */
  'foreign-realm',
  /** The `.sig` payload blob has the right length and the wrong bytes. */
  'mismatched-blob',
  /** The `.sig` payload blob is a redirect to another host. */
  'redirect',
  /** The `.sig` payload blob never ends (chunked, no Content-Length). */
  'endless-blob',
  /** The `.sig` payload blob comes one byte a second. */
  'drip',
] as const;
export type HostileScenario = (typeof HOSTILE_SCENARIOS)[number];

export const HOSTILE_TAG = 'v1';
const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const OVERSIZED_BYTES = 5 * 1024 * 1024;

interface Blob {
  bytes: Buffer;
  digest: string;
}

const blob = (bytes: Buffer): Blob => ({ bytes, digest: sha256(bytes) });

const manifestOf = (config: Blob, layers: Array<Blob & { mediaType: string }>): Blob =>
  blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: config.digest,
          size: config.bytes.length,
        },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length })),
      }),
    ),
  );

export interface HostileRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** The image manifest's digest (the same in every repository, tagged `v1`). */
  readonly digest: string;
  /** The `.sig` payload blob the check stage fetches (and the hostile repositories mangle). */
  readonly payloadDigest: string;
  /** `acme/<scenario>` */
  repository(scenario: HostileScenario): string;
  /** Method and path of every request, in order, with the scenario it hit. */
  readonly requests: { scenario: string; method: string; path: string }[];
  /** Bytes sent for the endless blob so far (it stops when the client hangs up). */
  readonly endlessBytesSent: () => number;
  stop(): Promise<void>;
}

export async function startHostileRegistry(): Promise<HostileRegistry> {
  const config = blob(
    Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
  );
  const layer = blob(Buffer.from('not a real layer; the signature checks never read it'));
  const image = manifestOf(config, [{ ...layer, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]);
  // The .sig payload: what the signature check fetches as a blob. Its content is irrelevant; its
  // transport is the test.
  const payload = blob(
    Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': image.digest } } })),
  );
  const sig = manifestOf(config, [{ ...payload, mediaType: COSIGN_SIMPLESIGNING }]);
  const sigTag = `${image.digest.replace(':', '-')}.sig`;
  const blobs = new Map([config, layer, payload].map((b) => [b.digest, b]));
  const substitute = Buffer.from(
    image.bytes.toString('utf8').replace('"schemaVersion":2', '"schemaVersion": 2'),
  );

  const requests: HostileRegistry['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  let endlessSent = 0;
  let port = 0;

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
  };
  const unknown = (res: ServerResponse, code: string): void =>
    json(res, 404, { errors: [{ code, message: 'unknown' }] });

  const sendManifest = (req: IncomingMessage, res: ServerResponse, m: Blob, body = m.bytes): void => {
    res.writeHead(200, {
      'content-type': OCI_MANIFEST,
      'content-length': body.length,
      'docker-content-digest': m.digest,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  function manifest(scenario: string, reference: string, req: IncomingMessage, res: ServerResponse): void {
    const m =
      reference === HOSTILE_TAG || reference === image.digest
        ? image
        : reference === sigTag
          ? sig
          : undefined;
    if (m === undefined) return unknown(res, 'MANIFEST_UNKNOWN');
    const byDigest = reference.startsWith('sha256:');
    if (m === image && byDigest && req.method === 'GET') {
      if (scenario === 'substituted-manifest') {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': substitute.length });
        res.end(substitute);
        return;
      }
      if (scenario === 'oversized-manifest') {
        // Valid JSON's opening, then padding, with no Content-Length: refused while streaming.
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < OVERSIZED_BYTES && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.write('{"schemaVersion":2,"padding":"');
        pump();
        return;
      }
    }
    sendManifest(req, res, m);
  }

  function sendBlob(scenario: string, digest: string, req: IncomingMessage, res: ServerResponse): void {
    const b = blobs.get(digest);
    if (b === undefined) return unknown(res, 'BLOB_UNKNOWN');
    const hostile = digest === payload.digest ? scenario : 'good';
    switch (hostile) {
      case 'mismatched-blob': {
        const wrong = Buffer.from(b.bytes);
        wrong[0] ^= 0xff;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': wrong.length });
        return void res.end(wrong);
      }
      case 'redirect':
        // 127.0.0.2 is loopback too, but another host than the one configured.
        res.writeHead(307, { location: `http://127.0.0.2:${port}/storage/${digest}` });
        return void res.end();
      case 'endless-blob': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(16 * 1024, 0x41);
        const pump = (): void => {
          while (!res.destroyed) {
            endlessSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
        };
        res.once('close', () => res.removeAllListeners('drain'));
        return pump();
      }
      case 'drip': {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.bytes.length });
        let i = 0;
        const timer = setInterval(() => {
          if (res.destroyed || i >= b.bytes.length) {
            clearInterval(timer);
            timers.delete(timer);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(b.bytes.subarray(i, i + 1));
          i += 1;
        }, 1000);
        timers.add(timer);
        return;
      }
      default:
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.bytes.length });
        res.end(req.method === 'HEAD' ? undefined : b.bytes);
    }
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = /^\/v2\/acme\/([a-z-]+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(path);
    const scenario = match?.[1] ?? '';
    requests.push({ scenario, method: req.method ?? '', path });
    if (path === '/v2/' || path === '/v2') return json(res, 200, {});
    if (match === null) return json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: path }] });
    if (scenario === 'foreign-realm') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.2:${port}/token",service="hostile",scope="repository:acme/${scenario}:pull"`,
        'content-type': 'application/json',
      });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    const [, , kind, reference] = match;
    if (kind === 'referrers') return unknown(res, 'NAME_UNKNOWN');
    if (kind === 'manifests') return manifest(scenario, decodeURIComponent(reference), req, res);
    return sendBlob(scenario, decodeURIComponent(reference), req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;

  return {
    host: `127.0.0.1:${port}`,
    digest: image.digest,
    payloadDigest: payload.digest,
    repository: (scenario) => `acme/${scenario}`,
    requests,
    endlessBytesSent: () => endlessSent,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
