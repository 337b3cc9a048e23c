// Development/test OIDC issuer (NOT for production). Usage:
//   node dist/apps/dev-oidc/main.js [--port 4400] [--host 127.0.0.1] [--issuer URL]
//     [--clients clients.json] [--keys .data/dev-oidc/jwks.json] [--registry-cert-out registry.pem]
// Each flag can also come from the environment: DEV_OIDC_PORT, DEV_OIDC_HOST, DEV_OIDC_ISSUER,
// DEV_OIDC_CLIENTS, DEV_OIDC_KEYS, DEV_OIDC_REGISTRY_CERT_OUT (flags win).
// Prints {"event":"listening",...} as one JSON line on stdout once it accepts requests; human hints
// go to stderr so stdout stays machine-readable.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { parseClients, type DevClient } from './dev-clients';
import { startDevOidcProvider } from './dev-oidc-provider';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      issuer: { type: 'string' },
      clients: { type: 'string' },
      keys: { type: 'string' },
      'registry-cert-out': { type: 'string' },
    },
    strict: true,
  });
  const env = process.env;
  const portText = values.port ?? env.DEV_OIDC_PORT ?? '4400';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${portText}`);
  const clientsPath = values.clients ?? env.DEV_OIDC_CLIENTS;
  let clients: DevClient[] | undefined;
  if (clientsPath !== undefined) {
    clients = parseClients(JSON.parse(await readFile(clientsPath, 'utf8')) as unknown, clientsPath);
  }

  const provider = await startDevOidcProvider({
    port,
    host: values.host ?? env.DEV_OIDC_HOST ?? '127.0.0.1',
    issuer: values.issuer ?? env.DEV_OIDC_ISSUER,
    clients,
    keysPath: values.keys ?? env.DEV_OIDC_KEYS,
    registryCertOut: values['registry-cert-out'] ?? env.DEV_OIDC_REGISTRY_CERT_OUT,
  });

  process.stdout.write(`${JSON.stringify({ event: 'listening', issuer: provider.issuer })}\n`);
  process.stderr.write(
    `dev-oidc (development only) issuing tokens as ${provider.issuer}. Get one with:\n` +
      `  curl -s -u ci-app:ci-app-secret -d grant_type=client_credentials -d resource=airlock ${provider.issuer}/token\n`,
  );

  const stop = (): void => {
    provider.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `dev-oidc failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
