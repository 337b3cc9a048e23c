import { type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSigningKey } from './keys';
import { builtScript, freePort, httpOk, jsonLine, type ServiceProcess, spawnService } from './processes';

export interface Issuers {
  /** Issues CI workload tokens (client `ci-app`, `ci-other`). */
  ci: string;
  /** The people's IdP (clients `alice`, `bob`, …). */
  people: string;
  stop(): Promise<void>;
}

/**
 * Two development issuers: one plays GitHub Actions, the other the organisation's IdP. Airlock
 * trusts each issuer for one kind of caller, as it would in production.
 */
export async function startIssuers(
  dataDir: string,
  ports: { ci?: number; people?: number } = {},
  /** Where the people issuer writes its certificate, for registries that accept its tokens. */
  registryCertOut?: string,
): Promise<Issuers> {
  mkdirSync(dataDir, { recursive: true });
  const start = async (
    name: string,
    port: number,
    extra: string[] = [],
  ): Promise<{ issuer: string; proc: ServiceProcess }> => {
    let issuer = '';
    const proc = await spawnService({
      name,
      script: builtScript('apps/dev-oidc/main.js'),
      args: ['--port', String(port), '--keys', join(dataDir, `${name}-jwks.json`), ...extra],
      env: {},
      logFile: join(dataDir, `${name}.log`),
      ready: async (child) => {
        issuer = (await jsonLine<{ event: string; issuer: string }>(child, 'listening')).issuer;
      },
    });
    return { issuer, proc };
  };
  const [ci, people] = await Promise.all([
    start('dev-ci-oidc', ports.ci ?? (await freePort())),
    start(
      'dev-people-oidc',
      ports.people ?? (await freePort()),
      registryCertOut ? ['--registry-cert-out', registryCertOut] : [],
    ),
  ]);
  return {
    ci: ci.issuer,
    people: people.issuer,
    stop: async () => {
      await Promise.all([ci.proc.stop(), people.proc.stop()]);
    },
  };
}

/**
 * The development identities: CI workloads of the `acme` organisation may request; release
 * managers approve; platform admins administer; auditors read the trail; frank may break glass.
 */
export function developmentBootstrap(issuers: Pick<Issuers, 'ci' | 'people'>): unknown {
  return {
    trustedIssuers: [
      { issuer: issuers.ci, kind: 'ci', audience: 'airlock' },
      { issuer: issuers.people, kind: 'human', audience: 'airlock', groupsClaim: 'groups' },
    ],
    roleBindings: [
      { role: 'requester', issuer: issuers.ci, repositoryPattern: 'acme/*' },
      { role: 'approver', issuer: issuers.people, group: 'release-managers' },
      { role: 'admin', issuer: issuers.people, group: 'platform-admins' },
      { role: 'auditor', issuer: issuers.people, group: 'auditors' },
      { role: 'break_glass', issuer: issuers.people, subject: 'frank' },
    ],
  };
}

export interface StackOptions {
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  bootstrap: unknown;
  mode: 'development' | 'test';
  apiPort?: number;
  env?: Record<string, string>;
}

/** Resolves when a worker process says it has started consuming its queues. */
export function workerReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolveReady) => {
    const onData = (chunk: Buffer): void => {
      if (chunk.toString('utf8').includes('worker started')) {
        child.stdout?.off('data', onData);
        resolveReady();
      }
    };
    child.stdout?.on('data', onData);
  });
}

/** API and worker processes of one Airlock deployment, for development, tests and benchmarks. */
export class AirlockStack {
  api: ServiceProcess | undefined;
  worker: ServiceProcess | undefined;
  apiUrl = '';
  /** AIRLOCK_SECRETS_DIR unless the options' env names another folder. */
  readonly secretsDir: string;
  private readonly env: Record<string, string>;

  constructor(private readonly o: StackOptions) {
    mkdirSync(o.dataDir, { recursive: true });
    const keyFile = join(o.dataDir, 'airlock-signing-key.pem');
    ensureSigningKey(keyFile);
    const bootstrapFile = join(o.dataDir, 'bootstrap.json');
    writeFileSync(bootstrapFile, JSON.stringify(o.bootstrap, null, 2));
    // Named secrets (credential profiles' client secrets) live in a folder of their own, apart
    // from the signing key: Airlock refuses to start when the folder holds its key.
    this.secretsDir = join(o.dataDir, 'secrets');
    mkdirSync(this.secretsDir, { recursive: true, mode: 0o700 });
    this.env = {
      AIRLOCK_MODE: o.mode,
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl,
      REDIS_PREFIX: o.redisPrefix,
      AIRLOCK_SIGNING_KEY_FILE: keyFile,
      AUDIT_CHECKPOINT_FILE: join(o.dataDir, 'audit-checkpoints.jsonl'),
      AIRLOCK_BOOTSTRAP_FILE: bootstrapFile,
      AUTH_ALLOW_INSECURE_ISSUERS: 'true',
      AIRLOCK_SECRETS_DIR: this.secretsDir,
      // Everything of a one-machine stack is on loopback (registries, issuers).
      AIRLOCK_ALLOWED_HOSTS: '127.0.0.1:*',
      LOG_LEVEL: 'info',
      ...o.env,
    };
  }

  async start(): Promise<this> {
    await this.startApi();
    await this.startWorker();
    return this;
  }

  /** `readyPath` /healthz starts an API whose dependencies are down (it stays unready). */
  async startApi(readyPath = '/readyz'): Promise<void> {
    const port = this.o.apiPort ?? (await freePort());
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.api = await spawnService({
      name: 'airlock-api',
      script: builtScript('apps/api/main.js'),
      env: { ...this.env, API_PORT: String(port), API_HOST: '127.0.0.1' },
      logFile: join(this.o.dataDir, 'api.log'),
      ready: (child) => httpOk(`${this.apiUrl}${readyPath}`, child),
    });
  }

  async startWorker(extraEnv: Record<string, string> = {}): Promise<void> {
    this.worker = await this.spawnWorker(extraEnv);
  }

  /** A worker process; `startWorker` keeps one as `worker`, tests may run more (and stop them). */
  spawnWorker(extraEnv: Record<string, string> = {}, name = 'airlock-worker'): Promise<ServiceProcess> {
    return spawnService({
      name,
      script: builtScript('apps/worker/main.js'),
      env: { ...this.env, ...extraEnv },
      // The one worker keeps the log name tests and people look for.
      logFile: join(this.o.dataDir, name === 'airlock-worker' ? 'worker.log' : `${name}.log`),
      ready: workerReady,
    });
  }

  async stopWorker(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.worker?.stop(signal);
    this.worker = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([this.worker?.stop(), this.api?.stop()]);
  }
}
