// Two registries with token auth for the promoter's e2e tests, the way a real deployment has them:
// a staging (source) and a production (target) docker-registry (distribution 2.8) that accept only
// JWTs signed by a registry-token issuer (the development OIDC issuer started with
// `--registry-cert-out`, a third one besides the run's CI and people issuers), each behind a loopback
// proxy that records what Airlock sends (bearer tokens, uploads) so tests can prove what moved and
// what leaked. Fixtures are pushed to the registries directly with a token of the rig's own client,
// so the proxies see only Airlock's traffic.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { RegistryClient } from '../../libs/oci';
import { getToken, startOidcProvider, type OidcProviderHandle } from './oidc';
import { type PushAuth } from './oci-images';
import { startRegistry, startRegistryProxy, type RegistryHandle, type RegistryProxy } from './registry';

/** What an environment's `target.credentials` / source rule `credentials` hold (the contract). */
export interface CredentialProfile {
  issuer: string;
  clientId: string;
  /** A secret the deployment's AIRLOCK_SECRETS_DIR holds (here: `PromoterRig.secretsDir`). */
  clientSecretName: string;
  services: string[];
}

/** Clients of the registry-token issuer. */
export const PROMOTER_CLIENTS = {
  /** The promoter: pull and push anywhere, on both registries. */
  promoter: 'airlock-promoter',
  /** Granted `repository:*:pull` only: it can read the target but never push. */
  readOnly: 'airlock-promoter-readonly',
  /** The issuer refuses it tokens for the production registry (invalid_target). */
  stagingOnly: 'airlock-promoter-staging-only',
  /** The rig's own client for fixtures and for reading what landed; never handed to Airlock. */
  rig: 'promoter-rig',
} as const;
export type PromoterClientName = keyof typeof PROMOTER_CLIENTS;

export interface ObservedRequest {
  method: string;
  /** Path with query. */
  path: string;
  /** The bearer token sent, if any. */
  token?: string;
}

/** An upload the proxy forwarded: the final PUT of a blob (its `digest` query parameter). */
export interface ObservedUpload {
  repository: string;
  digest: string;
  /** Body bytes forwarded so far. */
  bytes: number;
  status?: number;
}

export interface TokenRegistry {
  /** The registry's `service` (token audience). */
  readonly service: string;
  readonly registry: RegistryHandle;
  readonly proxy: RegistryProxy;
  /** `host:port` Airlock is configured with (the proxy). */
  readonly host: string;
  /** `host:port` of the registry itself, for fixtures that Airlock must not see. */
  readonly directHost: string;
  /** Every request Airlock sent, in order. */
  readonly requests: ObservedRequest[];
  /** Every blob PUT Airlock sent, in order. */
  readonly uploads: ObservedUpload[];
  /** Bearer tokens Airlock presented. */
  readonly tokens: Set<string>;
  /** Called for each chunk of a blob upload body as it passes (e.g. to kill the worker mid-copy). */
  onUploadData?: (upload: ObservedUpload, chunkBytes: number) => void;
}

export interface PromoterRigOptions {
  /** Registry `service` names; default `staging-registry` and `prod-registry`. */
  services?: { source?: string; target?: string };
}

/** The repository a request path names (`/v2/<repo>/blobs/...`), if any. */
export const requestRepository = (path: string): string | undefined =>
  /^\/v2\/(.+?)\/(?:blobs|manifests|tags|referrers)\//.exec(path)?.[1];

/**
 * The registry-token issuer, two token-auth registries behind recording proxies, and the client
 * secrets as named secrets in `secretsDir` (start Airlock with AIRLOCK_SECRETS_DIR set to it, and
 * trust `issuer`). Start with `PromoterRig.start()`, stop with `stop()`.
 */
export class PromoterRig {
  private constructor(
    readonly dir: string,
    readonly issuer: string,
    readonly source: TokenRegistry,
    readonly target: TokenRegistry,
    private readonly secrets: Record<PromoterClientName, string>,
    private readonly oidc: OidcProviderHandle,
  ) {}

  /** The folder of named secrets: give it to Airlock as AIRLOCK_SECRETS_DIR. */
  get secretsDir(): string {
    return join(this.dir, 'secrets');
  }

  /** The name of a client's secret (its client id). */
  secretNameOf(client: PromoterClientName): string {
    return PROMOTER_CLIENTS[client];
  }

  /** The real secret of a client (what its secret file held at start). */
  secretOf(client: PromoterClientName): string {
    return this.secrets[client];
  }

  /** Every client secret, for leak checks. */
  get allSecrets(): string[] {
    return Object.values(this.secrets);
  }

  /** Writes a named secret into the secrets folder (e.g. a wrong secret, then the right one). */
  async writeSecret(name: string, secret: string): Promise<void> {
    await writeFile(join(this.secretsDir, name), `${secret}\n`, { mode: 0o600 });
  }

  /** A credential profile for an environment; default: the promoter for both registries. */
  profile(
    options: { client?: PromoterClientName; services?: string[]; secretName?: string } = {},
  ): CredentialProfile {
    const client = options.client ?? 'promoter';
    return {
      issuer: this.issuer,
      clientId: PROMOTER_CLIENTS[client],
      clientSecretName: options.secretName ?? this.secretNameOf(client),
      services: options.services ?? [this.source.service, this.target.service],
    };
  }

  /** Source rules for an environment: the source registry (through its proxy) with credentials. */
  sources(repositories = ['acme/*'], credentials: CredentialProfile | null = this.profile()): unknown[] {
    return [
      {
        registry: this.source.host,
        repositories,
        insecure: true,
        ...(credentials === null ? {} : { credentials }),
      },
    ];
  }

  /** The target mapping for an environment: `prod/{repository}` on the target (through its proxy). */
  targetMapping(
    credentials: CredentialProfile | null = this.profile(),
    repository = 'prod/{repository}',
  ): Record<string, unknown> {
    return {
      registry: this.target.host,
      repository,
      insecure: true,
      ...(credentials === null ? {} : { credentials }),
    };
  }

  /** A registry token of the rig's own client (or `client`) for `scope` on one of the registries. */
  async token(registry: TokenRegistry, scope: string, client: PromoterClientName = 'rig'): Promise<string> {
    return getToken(this.issuer, PROMOTER_CLIENTS[client], {
      clientSecret: this.secrets[client],
      resource: registry.service,
      scope,
    });
  }

  /** PushAuth (pull and push on `repository`) for the oci-images helpers, on the registry directly. */
  async pushAuth(registry: TokenRegistry, repository: string): Promise<PushAuth> {
    return { bearerToken: await this.token(registry, `repository:${repository}:pull,push`) };
  }

  /**
   * A libs/oci client for one of the registries with the rig's own tokens; `direct` (default)
   * talks to the registry itself, otherwise through the proxy (then the requests are recorded).
   */
  client(registry: TokenRegistry, options: { direct?: boolean; client?: PromoterClientName } = {}) {
    return new RegistryClient({
      host: options.direct === false ? registry.host : registry.directHost,
      insecure: true,
      timeoutMs: 30_000,
      credentials: {
        tokenSupplier: (scope, challenge) =>
          getToken(this.issuer, PROMOTER_CLIENTS[options.client ?? 'rig'], {
            clientSecret: this.secrets[options.client ?? 'rig'],
            resource: challenge.service ?? registry.service,
            scope,
          }),
      },
    });
  }

  /** Deletes a manifest (and so every tag on it) by digest, on the registry directly. */
  async deleteManifest(registry: TokenRegistry, repository: string, digest: string): Promise<void> {
    const token = await this.token(registry, `repository:${repository}:pull,push,delete`);
    const res = await fetch(`${registry.registry.url}/v2/${repository}/manifests/${digest}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    await res.body?.cancel();
    if (res.status !== 202) throw new Error(`deleting ${repository}@${digest}: ${res.status}`);
  }

  /** Tags of a repository, read directly (empty when the repository does not exist). */
  async tags(registry: TokenRegistry, repository: string): Promise<string[]> {
    const token = await this.token(registry, `repository:${repository}:pull`);
    const res = await fetch(`${registry.registry.url}/v2/${repository}/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return [];
    }
    if (res.status !== 200) throw new Error(`tags of ${repository}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { tags: string[] | null }).tags ?? [];
  }

  /** Forget what the proxies recorded so far. */
  resetObservations(): void {
    for (const r of [this.source, this.target]) {
      r.requests.length = 0;
      r.uploads.length = 0;
    }
  }

  static async start(options: PromoterRigOptions = {}): Promise<PromoterRig> {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-promoter-rig-'));
    const stops: Array<() => Promise<void>> = [async () => rm(dir, { recursive: true, force: true })];
    const stopAll = async (): Promise<void> => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    };
    try {
      const services = {
        source: options.services?.source ?? 'staging-registry',
        target: options.services?.target ?? 'prod-registry',
      };
      const secrets = Object.fromEntries(
        Object.keys(PROMOTER_CLIENTS).map((name) => [name, randomBytes(18).toString('base64url')]),
      ) as Record<PromoterClientName, string>;
      const both = [services.source, services.target];
      const client = (
        name: PromoterClientName,
        allowedResources: string[],
        scopes?: string[],
      ): Record<string, unknown> => ({
        client_id: PROMOTER_CLIENTS[name],
        client_secret: secrets[name],
        kind: 'service',
        claims: {},
        allowedResources,
        ...(scopes === undefined ? {} : { scopes }),
      });
      const clientsPath = join(dir, 'registry-token-clients.json');
      await writeFile(
        clientsPath,
        JSON.stringify([
          client('promoter', both),
          client('readOnly', both, ['repository:*:pull']),
          client('stagingOnly', [services.source]),
          client('rig', both),
        ]),
      );
      await mkdir(join(dir, 'secrets'), { mode: 0o700 });
      for (const name of Object.keys(PROMOTER_CLIENTS) as PromoterClientName[]) {
        await writeFile(join(dir, 'secrets', PROMOTER_CLIENTS[name]), `${secrets[name]}\n`, {
          mode: 0o600,
        });
      }

      const certPath = join(dir, 'registry-token-issuer.pem');
      const oidc = await startOidcProvider({ registryCertOut: certPath, clientsPath });
      stops.push(() => oidc.stop());

      const startOne = async (service: string): Promise<TokenRegistry> => {
        const registry = await startRegistry({
          auth: {
            // Where the registry's challenge points; the promoter gets tokens from the issuer's
            // client_credentials grant instead, never from a realm.
            realm: `${oidc.issuer}/token`,
            service,
            issuer: oidc.issuer,
            rootCertBundlePath: certPath,
          },
        });
        stops.push(() => registry.stop());
        const observed: Pick<TokenRegistry, 'requests' | 'uploads' | 'tokens' | 'onUploadData'> = {
          requests: [],
          uploads: [],
          tokens: new Set<string>(),
        };
        const uploadOf = (req: IncomingMessage): ObservedUpload | undefined => {
          if (req.method !== 'PUT' && req.method !== 'PATCH') return undefined;
          const url = new URL(req.url ?? '/', 'http://proxy');
          const m = /^\/v2\/(.+)\/blobs\/uploads\/[^/]+$/.exec(url.pathname);
          if (!m) return undefined;
          return { repository: m[1], digest: url.searchParams.get('digest') ?? '', bytes: 0 };
        };
        const uploadsByRequest = new WeakMap<IncomingMessage, ObservedUpload>();
        const proxy = await startRegistryProxy(registry.host, {
          intercept: (req) => {
            const auth = req.headers.authorization;
            const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
            if (token !== undefined) observed.tokens.add(token);
            observed.requests.push({ method: req.method ?? '', path: req.url ?? '', token });
            const upload = uploadOf(req);
            if (upload !== undefined) {
              observed.uploads.push(upload);
              uploadsByRequest.set(req, upload);
              req.on('data', (chunk: Buffer) => {
                upload.bytes += chunk.length;
                observed.onUploadData?.(upload, chunk.length);
              });
            }
            return false;
          },
          mapResponse: (req, upstream) => {
            const upload = uploadsByRequest.get(req);
            if (upload !== undefined) upload.status = upstream.status;
            return upstream;
          },
        });
        stops.push(() => proxy.stop());
        // The same object the proxy's hooks see, so `onUploadData` set on it later takes effect.
        return Object.assign(observed, {
          service,
          registry,
          proxy,
          host: proxy.host,
          directHost: registry.host,
        });
      };
      const [source, target] = await Promise.all([startOne(services.source), startOne(services.target)]);
      const rig = new PromoterRig(dir, oidc.issuer, source, target, secrets, oidc);
      rig.stopAll = stopAll;
      return rig;
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  private stopAll: () => Promise<void> = async () => undefined;

  async stop(): Promise<void> {
    await this.stopAll();
  }

  /** The issuer process handle (to stop it on purpose, e.g. an unreachable issuer). */
  get issuerProcess(): OidcProviderHandle {
    return this.oidc;
  }
}
