// A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on a free loopback port,
// with filesystem storage in a temporary folder that is removed on stop. Plus a small HTTP proxy
// that can stand in front of it to tamper with, redirect or observe traffic.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { freePort } from './oidc';

export interface RegistryTokenAuth {
  /** Token endpoint URL the registry names in its 401 challenge. */
  realm: string;
  /** The registry's `service`: tokens must carry it as `aud`. */
  service: string;
  /** Tokens must carry it as `iss`. */
  issuer: string;
  /** PEM certificates whose keys may sign tokens (matched by libtrust `kid` or `x5c`). */
  rootCertBundlePath: string;
}

export interface StartRegistryOptions {
  auth?: RegistryTokenAuth;
}

export interface RegistryHandle {
  /** `127.0.0.1:<port>`, the way image references and registry configs name it. */
  readonly host: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Filesystem storage root (`docker/registry/v2/...` lives below it). */
  readonly storageDir: string;
  /** Where a blob's bytes are stored, for tests that corrupt storage on purpose. */
  blobDataPath(digest: string): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

function registryConfig(port: number, storageDir: string, auth: RegistryTokenAuth | undefined): string {
  // JSON is valid YAML, which spares us a YAML writer and any quoting questions.
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    health: { storagedriver: { enabled: false } },
  };
  if (auth !== undefined) {
    config.auth = {
      token: {
        realm: auth.realm,
        service: auth.service,
        issuer: auth.issuer,
        rootcertbundle: auth.rootCertBundlePath,
      },
    };
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Polls `GET /v2/` until it answers 200 or 401; fails early when the process exits. */
async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (code ${child.exitCode}) before it was ready:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`docker-registry at ${url} not ready within ${READY_TIMEOUT_MS} ms:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
}

/** Starts `docker-registry serve` on a free loopback port and waits until it answers. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-registry-'));
  const storageDir = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  let lastError: unknown;
  // The free port can be taken between picking and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    await writeFile(configPath, registryConfig(port, storageDir, options.auth));
    const child = spawn('docker-registry', ['serve', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(url, child, () => output);
    } catch (error) {
      lastError = error;
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      continue;
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      storageDir,
      blobDataPath: (digest: string) => {
        const hex = digest.replace(/^sha256:/, '');
        return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      },
      stop: async () => {
        process.removeListener('exit', killOnExit);
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('docker-registry did not start');
}

/** What a proxy hook sees of a response from the registry, and may replace. */
export interface ProxiedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface RegistryProxyOptions {
  /**
   * Called for every request first; return true when it answered the request itself (for example
   * with a redirect), false to forward it.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Replace or alter the registry's response before it goes back to the client. */
  mapResponse?: (req: IncomingMessage, upstream: ProxiedResponse) => ProxiedResponse;
}

export interface RegistryProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  readonly host: string;
  readonly url: string;
  /** Method and path (with query) of every request seen, in order. */
  readonly requests: { method: string; path: string; authorization: boolean }[];
  stop(): Promise<void>;
}

/**
 * A plain HTTP proxy on loopback in front of `upstreamHost`. The Host header is passed through, so
 * URLs the registry builds (upload locations) point back at the proxy.
 */
export async function startRegistryProxy(
  upstreamHost: string,
  options: RegistryProxyOptions = {},
): Promise<RegistryProxy> {
  const [upstreamName, upstreamPort] = upstreamHost.split(':');
  const requests: RegistryProxy['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization !== undefined,
    });
    if (options.intercept?.(req, res) === true) return;
    const upstream = httpRequest(
      {
        host: upstreamName,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamRes) => {
        const proxied: ProxiedResponse = {
          status: upstreamRes.statusCode ?? 502,
          headers: upstreamRes.headers,
          body: upstreamRes,
        };
        const out = options.mapResponse?.(req, proxied) ?? proxied;
        res.writeHead(out.status, out.headers);
        pipeline(out.body, res).catch(() => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    pipeline(req, upstream).catch(() => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
