// A development/test OIDC issuer on top of oidc-provider. NOT for production: clients and secrets are
// static, everything is kept in memory, and it hands out tokens to anyone who knows a client secret.
//
// It does one thing: client_credentials tokens, as ES256-signed JWTs whose `aud` is exactly the
// requested `resource`, carrying per-client claims (CI workflow or person), plus Docker registry
// tokens (`access` claim, libtrust `kid`) for the promoter.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { dirname } from 'node:path';
import Provider, { errors, type OidcContext, type ProviderContext } from 'oidc-provider';

import { DEFAULT_CLIENTS, scopeAllowed, type DevClient } from './dev-clients';
import { accessFromScopes } from './registry-access';
import { loadOrCreateSigningKey, selfSignedCertificatePem, type SigningKey } from './signing-key';

export interface DevOidcProviderOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Issuer identifier; default `http://<host>:<port>`. */
  issuer?: string;
  /** Default: DEFAULT_CLIENTS. */
  clients?: readonly DevClient[];
  /** JWKS file holding the private signing key; created when missing. Default: a throwaway key. */
  keysPath?: string;
  /** Where to write a self-signed certificate of the signing key (a registry's rootcertbundle). */
  registryCertOut?: string;
  /** Lifetime of every access token, in seconds; default 300. */
  tokenTtlSeconds?: number;
  /** Where unexpected server errors go; default stderr. */
  log?: (message: string) => void;
}

export interface DevOidcProvider {
  readonly issuer: string;
  close(): Promise<void>;
}

// RFC 8707 wants a resource indicator to be an absolute URI, and oidc-provider refuses anything else
// with invalid_target. But Airlock's audience ("airlock") and a registry's `service`
// ("airlock-registry") are plain names, and a registry only accepts `aud` equal to its service name.
// So a plain name travels inside oidc-provider as urn:airlock-dev-oidc:resource:<name> (the token
// request body is rewritten before oidc-provider parses it) and becomes the plain `aud` again in
// getResourceServerInfo. Absolute URIs pass through untouched.
const PLAIN_RESOURCE_PREFIX = 'urn:airlock-dev-oidc:resource:';

function toResourceIndicator(resource: string): string {
  return URL.canParse(resource) ? resource : `${PLAIN_RESOURCE_PREFIX}${encodeURIComponent(resource)}`;
}

function fromResourceIndicator(indicator: string): string {
  return indicator.startsWith(PLAIN_RESOURCE_PREFIX)
    ? decodeURIComponent(indicator.slice(PLAIN_RESOURCE_PREFIX.length))
    : indicator;
}

const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TOKEN_REQUEST_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Rewrites plain-name `resource` parameters of token requests (see PLAIN_RESOURCE_PREFIX). The body is
 * handed on as `req.body`, which oidc-provider accepts from upstream parsers (it logs one warning
 * about that, once per process).
 */
function rewriteResourceParameters(tokenPath: string) {
  return async (ctx: ProviderContext, next: () => Promise<void>): Promise<void> => {
    if (ctx.method === 'POST' && ctx.path === tokenPath && ctx.is('application/x-www-form-urlencoded')) {
      const body = await readBody(ctx.req);
      if (body === undefined) {
        ctx.status = 413;
        ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
        return;
      }
      const params = new URLSearchParams(body);
      const resources = params.getAll('resource');
      params.delete('resource');
      for (const resource of resources) params.append('resource', toResourceIndicator(resource));
      ctx.req.body = params.toString();
    }
    await next();
  };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startDevOidcProvider(options: DevOidcProviderOptions = {}): Promise<DevOidcProvider> {
  const host = options.host ?? '127.0.0.1';
  const ttl = options.tokenTtlSeconds ?? 300;
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const clients = new Map((options.clients ?? DEFAULT_CLIENTS).map((client) => [client.client_id, client]));
  const key = await loadOrCreateSigningKey(options.keysPath);

  if (options.registryCertOut !== undefined) {
    await mkdir(dirname(options.registryCertOut), { recursive: true });
    await writeFile(options.registryCertOut, selfSignedCertificatePem(key, 'airlock-dev-oidc'));
  }

  // Listen first: with port 0 the default issuer is only known once the port is. Requests that
  // arrive before the provider exists wait for it.
  let setHandler: (handler: RequestListener) => void = () => undefined;
  const handlerReady = new Promise<RequestListener>((resolve) => (setHandler = resolve));
  const server = createServer((req, res) => void handlerReady.then((handler) => handler(req, res)));
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const close = async (): Promise<void> => {
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };
  try {
    const { port } = server.address() as AddressInfo;
    const issuer = options.issuer ?? `http://${urlHost(host)}:${port}`;
    setHandler(createProvider(issuer, clients, key, ttl, log).callback());
    return { issuer, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function createProvider(
  issuer: string,
  clients: ReadonlyMap<string, DevClient>,
  key: SigningKey,
  ttl: number,
  log: (message: string) => void,
): Provider {
  const devClient = (clientId: string): DevClient => {
    const client = clients.get(clientId);
    if (client === undefined) throw new Error(`unknown client ${clientId}`);
    return client;
  };

  const provider = new Provider(issuer, {
    clients: [...clients.values()].map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    // The JWK's kid is the libtrust key ID, so the JWT header kid satisfies docker-registry 2.8 while
    // ordinary verifiers still find the key in the JWKS by the same kid.
    jwks: { keys: [key.privateJwk] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No `resource` in the request: the client's first allowed audience, so a bare
        // client_credentials request still yields a JWT.
        defaultResource: async (_ctx, client) =>
          toResourceIndicator(devClient(client.clientId).allowedResources[0]),
        getResourceServerInfo: async (ctx: OidcContext, indicator, client) => {
          const dev = devClient(client.clientId);
          const audience = fromResourceIndicator(indicator);
          if (!dev.allowedResources.includes(audience)) {
            throw new errors.InvalidTarget(
              `resource "${audience}" is not allowed for client ${dev.client_id}`,
            );
          }
          const requested = ctx.oidc.params?.scope;
          const scopes = typeof requested === 'string' ? requested.split(' ').filter(Boolean) : [];
          return {
            audience,
            // oidc-provider grants the intersection of the requested scopes and this list.
            scope: scopes.filter((scope) => scopeAllowed(dev, scope)).join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // Spread into the payload before the registered claims, so a configured iss/aud/exp/jti cannot
    // override them.
    extraTokenClaims: async (_ctx, token) => ({ ...devClient(token.clientId).claims }),
    formats: {
      customizers: {
        jwt: async (_ctx, token, jwt) => {
          const dev = devClient(token.clientId);
          // oidc-provider sets sub to the client_id; a configured sub (a CI subject) wins.
          jwt.payload.sub = typeof dev.claims.sub === 'string' ? dev.claims.sub : dev.client_id;
          if (dev.kind === 'service') jwt.payload.access = accessFromScopes(token.scope?.split(' ') ?? []);
        },
      },
    },
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl },
  });
  provider.use(rewriteResourceParameters(provider.pathFor('token')));
  provider.on('server_error', (_ctx, error) => {
    log(`dev-oidc server_error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  });
  return provider;
}
