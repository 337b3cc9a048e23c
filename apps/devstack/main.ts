// `scripts/start.sh` ends here: Airlock for development on one machine, no Docker needed.
// Uses DATABASE_URL / REDIS_URL when given, else the local servers; creates the `airlock`
// database when missing, migrates it, and runs the development issuers, two registries (staging
// and production, token auth trusting the people issuer), a signed sample image, the API and the
// worker, and the environments dev → staging → production wired to them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDatabase, runMigrations } from './database';
import { repositoryRoot } from './processes';
import { startDevRegistry } from './registries';
import { PROMOTER, REGISTRY_SERVICE, seedDevelopment } from './seed';
import { AirlockStack, developmentBootstrap, startIssuers } from './stack';

async function main(): Promise<void> {
  const env = process.env;
  const dataDir = join(repositoryRoot(), '.data', 'dev');
  mkdirSync(dataDir, { recursive: true });
  const databaseUrl =
    env.DATABASE_URL ?? (await ensureDatabase('postgres://postgres@127.0.0.1:5432/postgres', 'airlock'));
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const ran = await runMigrations(databaseUrl);
  if (ran.length) console.error(`migrations applied: ${ran.join(', ')}`);

  const registryCert = join(dataDir, 'registry-token-signer.pem');
  const issuers = await startIssuers(
    join(dataDir, 'issuers'),
    { ci: Number(env.DEV_CI_OIDC_PORT ?? 4400), people: Number(env.DEV_PEOPLE_OIDC_PORT ?? 4401) },
    registryCert,
  );
  const registry = (name: string, port: number) =>
    startDevRegistry({
      dataDir: join(dataDir, 'registries'),
      name,
      port,
      service: REGISTRY_SERVICE,
      issuer: issuers.people,
      rootCertBundle: registryCert,
    });
  const [staging, prod] = await Promise.all([
    registry('registry-staging', Number(env.DEV_REGISTRY_STAGING_PORT ?? 5001)),
    registry('registry-prod', Number(env.DEV_REGISTRY_PROD_PORT ?? 5002)),
  ]);

  const stack = new AirlockStack({
    dataDir,
    databaseUrl,
    redisUrl,
    redisPrefix: env.REDIS_PREFIX ?? 'airlock',
    bootstrap: developmentBootstrap(issuers),
    mode: 'development',
    apiPort: Number(env.API_PORT ?? 8080),
    env: {
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      // The registries and issuers this stack runs, all on loopback (development mode allows
      // plain http and loopback addresses, for allowed hosts only).
      AIRLOCK_ALLOWED_HOSTS: [staging.host, prod.host, issuers.ci, issuers.people]
        .map((h) => new URL(h.includes('://') ? h : `http://${h}`).host)
        .join(','),
    },
  });
  // The promoter's client secret, named `airlock-promoter` by the environment's credential
  // profile: a file in the stack's AIRLOCK_SECRETS_DIR, as an operator would mount it.
  writeFileSync(join(stack.secretsDir, PROMOTER.clientId), PROMOTER.secret, { mode: 0o600 });
  // A development database from before named secrets holds `promoter-client-secret` (the
  // migration named the secret after the old file).
  writeFileSync(join(stack.secretsDir, 'promoter-client-secret'), PROMOTER.secret, { mode: 0o600 });
  await stack.start();

  const { sampleDigest } = await seedDevelopment({
    apiUrl: stack.apiUrl,
    peopleIssuer: issuers.people,
    stagingHost: staging.host,
    prodHost: prod.host,
    releaseKeyFile: join(dataDir, 'release-signing-key.pem'),
  });

  const tokenCmd = (issuer: string, client: string, extra = 'resource=airlock') =>
    `curl -s -u ${client}:${client}-secret -d grant_type=client_credentials -d ${extra} ${issuer}/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/'`;
  console.log(`
Airlock is running.
  API        ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/openapi.json, browsable: ${stack.apiUrl}/docs)
  health     ${stack.apiUrl}/readyz     metrics: ${stack.apiUrl}/metrics
  database   ${databaseUrl.replace(/\/\/[^@]*@/, '//')}
  logs       ${dataDir}/{api,worker}.log

Registries (token auth, tokens from the people issuer for client airlock-promoter):
  staging     ${staging.host}   sample image ${staging.host}/acme/app:1.0.0 (${sampleDigest}), signed
  production  ${prod.host}   environment "production" promotes acme/* into prod/<repository> here

Environments (a chain: each takes only what the one before it promoted):
  dev → staging → production   dev/ and staging/ on the staging registry, prod/ on production;
  production also wants two sign-offs and the digest a minute in staging (soak)

Development issuers (tokens for named test clients; secret = <client>-secret):
  CI workloads  ${issuers.ci}      clients: ci-app (acme/app, actor carol), ci-other
  people        ${issuers.people}  alice, bob (approvers), erin, frank (admins), grace (auditor), carol, dave

Get a token, then try it:
  TOKEN=$(${tokenCmd(issuers.people, 'erin')})
  curl -s -H "authorization: Bearer $TOKEN" ${stack.apiUrl}/v1/whoami

Ctrl-C stops everything.`);

  const stop = (): void => {
    void Promise.all([stack.stop(), issuers.stop(), staging.proc.stop(), prod.proc.stop()]).finally(() =>
      process.exit(0),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`airlock failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
