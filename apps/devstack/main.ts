// `scripts/start.sh` ends here: Airlock for development on one machine, no Docker needed.
// Uses DATABASE_URL / REDIS_URL when given, else the local servers; creates the `airlock`
// database when missing, migrates it, and runs the development issuers, the API and the worker.
import { join } from 'node:path';
import { ensureDatabase, runMigrations } from './database';
import { repositoryRoot } from './processes';
import { AirlockStack, developmentBootstrap, startIssuers } from './stack';

async function main(): Promise<void> {
  const env = process.env;
  const dataDir = join(repositoryRoot(), '.data', 'dev');
  const databaseUrl =
    env.DATABASE_URL ?? (await ensureDatabase('postgres://postgres@127.0.0.1:5432/postgres', 'airlock'));
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const ran = await runMigrations(databaseUrl);
  if (ran.length) console.error(`migrations applied: ${ran.join(', ')}`);

  const issuers = await startIssuers(join(dataDir, 'issuers'), {
    ci: Number(env.DEV_CI_OIDC_PORT ?? 4400),
    people: Number(env.DEV_PEOPLE_OIDC_PORT ?? 4401),
  });
  const stack = new AirlockStack({
    dataDir,
    databaseUrl,
    redisUrl,
    redisPrefix: env.REDIS_PREFIX ?? 'airlock',
    bootstrap: developmentBootstrap(issuers),
    mode: 'development',
    apiPort: Number(env.API_PORT ?? 8080),
    env: { LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
  });
  await stack.start();

  const token = (issuer: string, client: string): string =>
    `curl -s -u ${client}:${client}-secret -d grant_type=client_credentials -d resource=airlock ${issuer}/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/'`;
  console.log(`
Airlock is running.
  API        ${stack.apiUrl}   (OpenAPI: ${stack.apiUrl}/openapi.json, browsable: ${stack.apiUrl}/docs)
  health     ${stack.apiUrl}/readyz     metrics: ${stack.apiUrl}/metrics
  database   ${databaseUrl.replace(/\/\/[^@]*@/, '//')}
  logs       ${dataDir}/{api,worker}.log

Development issuers (tokens for named test clients; secret = <client>-secret):
  CI workloads  ${issuers.ci}      clients: ci-app (acme/app, actor carol), ci-other
  people        ${issuers.people}  alice, bob (approvers), erin, frank (admins), grace (auditor), carol, dave

Get a token, then try it:
  TOKEN=$(${token(issuers.people, 'erin')})
  curl -s -H "authorization: Bearer $TOKEN" ${stack.apiUrl}/v1/whoami

Ctrl-C stops everything.`);

  const stop = (): void => {
    void Promise.all([stack.stop(), issuers.stop()]).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`airlock failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
