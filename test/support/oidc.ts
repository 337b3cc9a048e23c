// Test helpers for the development OIDC issuer. The issuer runs as its built program
// (dist/apps/dev-oidc/main.js, from `npm run build`) in a child process, the way the e2e tests run
// the API and worker; tokens are fetched over real HTTP with openid-client.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as client from 'openid-client';
import { freePort, repositoryRoot } from '../../apps/devstack/processes';

export interface OidcProviderHandle {
  readonly issuer: string;
  stop(): Promise<void>;
}

export interface StartOidcProviderOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** JWKS file with the signing key (created when missing); default: a throwaway key. */
  keysPath?: string;
  /** Write a self-signed certificate of the signing key here (a registry's rootcertbundle). */
  registryCertOut?: string;
  /** Clients file; default: the built-in clients (secret `<client_id>-secret`). */
  clientsPath?: string;
}

const STARTUP_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export { freePort };

export async function startOidcProvider(options: StartOidcProviderOptions = {}): Promise<OidcProviderHandle> {
  const main = resolve(repositoryRoot(), 'dist/apps/dev-oidc/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = options.port ?? (await freePort());
  const args = [main, '--port', String(port), '--host', '127.0.0.1'];
  if (options.keysPath !== undefined) args.push('--keys', options.keysPath);
  if (options.registryCertOut !== undefined) args.push('--registry-cert-out', options.registryCertOut);
  if (options.clientsPath !== undefined) args.push('--clients', options.clientsPath);

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Kept for error messages; the issuer's stderr is otherwise noise in test output.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const issuer = await new Promise<string>((resolveIssuer, reject) => {
    const lines = createInterface({ input: child.stdout });
    const settle = (): void => {
      clearTimeout(timer);
      child.removeListener('error', onError);
      child.removeListener('exit', onExit);
      lines.removeListener('line', onLine);
    };
    const fail = (reason: string): void => {
      settle();
      child.kill('SIGKILL');
      reject(new Error(`dev-oidc did not start: ${reason}\n${stderr}`));
    };
    const onError = (error: Error): void => fail(error.message);
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`exited (code ${code}, signal ${signal})`);
    const onLine = (line: string): void => {
      let event: { event?: unknown; issuer?: unknown };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return; // not a JSON line
      }
      if (event.event === 'listening' && typeof event.issuer === 'string') {
        settle();
        resolveIssuer(event.issuer);
      }
    };
    const timer = setTimeout(
      () => fail(`no listening line within ${STARTUP_TIMEOUT_MS} ms`),
      STARTUP_TIMEOUT_MS,
    );
    child.once('error', onError);
    child.once('exit', onExit);
    lines.on('line', onLine);
  });

  return {
    issuer,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface GetTokenOptions {
  /** Resource indicator, which becomes the token's `aud`; default `airlock`. */
  resource?: string;
  /** Space-separated scopes, e.g. `repository:app:pull repository:prod/app:pull,push`. */
  scope?: string;
  /** Default: `<clientId>-secret`, the built-in clients' convention. */
  clientSecret?: string;
}

/** A client_credentials access token (a JWT) for one of the issuer's clients. */
export async function getToken(
  issuer: string,
  clientId: string,
  options: GetTokenOptions = {},
): Promise<string> {
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    options.clientSecret ?? `${clientId}-secret`,
    undefined,
    // Tests talk plain http to loopback.
    { execute: [client.allowInsecureRequests] },
  );
  const parameters: Record<string, string> = { resource: options.resource ?? 'airlock' };
  if (options.scope !== undefined) parameters.scope = options.scope;
  const tokens = await client.clientCredentialsGrant(config, parameters);
  return tokens.access_token;
}
