// The fault suite's own services: a Postgres cluster and a Redis on free ports in a folder of its
// own (never the machine's shared ones, which it may not stop), and Airlock's API and worker
// processes against them. Each piece can be killed and started again, which is the point.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { workerReady } from '../apps/devstack/stack';
import { freePort, httpOk, spawnService, type ServiceProcess, builtScript } from '../apps/devstack/processes';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * initdb and postgres refuse to run as root: when we are root they run as the postgres user, set
 * on the process itself (not through runuser, which would not pass our signals on to postgres).
 */
function postgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Children that are not Node services (spawnService kills those) must not outlive the suite. */
function killOnExit(child: ChildProcess): void {
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(a) - Number(b)) : [];
  const bin = versions.length ? join(root, versions[versions.length - 1], 'bin') : '';
  if (!bin || !existsSync(join(bin, 'initdb'))) throw new Error('no PostgreSQL server binaries found');
  return bin;
}

/** A Postgres cluster of the fault suite's own. `stopImmediate` is `pg_ctl stop -m immediate`. */
export class OwnPostgres {
  private child: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  static async start(dir: string): Promise<OwnPostgres> {
    const bin = postgresBin();
    mkdirSync(dir, { recursive: true });
    // The postgres user must be able to reach its folder through ours (mkdtemp makes it 0700).
    chmodSync(dirname(dir), 0o755);
    const user = postgresUser();
    if ('uid' in user) chownSync(dir, user.uid, user.gid);
    const initdb = ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
    execFileSync(join(bin, 'initdb'), initdb, { stdio: 'ignore', ...user });
    const pg = new OwnPostgres(dir, await freePort(), bin);
    await pg.up();
    return pg;
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async up(): Promise<void> {
    const args = [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-k',
      this.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
    ];
    const log = createWriteStream(join(this.dir, 'postgres.log'), { flags: 'a' });
    this.child = spawn(join(this.bin, 'postgres'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...postgresUser(),
    });
    killOnExit(this.child);
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    for (let i = 0; i < 300; i++) {
      try {
        const c = new Client({ connectionString: this.adminUrl });
        await c.connect();
        await c.end();
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error('own Postgres did not start');
  }

  /** Immediate shutdown (SIGQUIT to the postmaster): no checkpoint, crash recovery at the next start. */
  async stopImmediate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const done = once(child, 'exit');
    child.kill('SIGQUIT');
    await done;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const done = once(child, 'exit');
    child.kill('SIGINT'); // fast shutdown
    await done;
    this.child = undefined;
  }
}

/** A Redis of the fault suite's own, run as a deployment should (AOF, noeviction). */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(dir: string): Promise<OwnRedis> {
    mkdirSync(dir, { recursive: true });
    const r = new OwnRedis(dir, await freePort());
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async up(): Promise<void> {
    const log = createWriteStream(join(this.dir, 'redis.log'), { flags: 'a' });
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    killOnExit(this.child);
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    for (let i = 0; i < 300; i++) {
      try {
        execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'ignore' });
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error('own Redis did not start');
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const done = once(child, 'exit');
    child.kill('SIGKILL');
    await done;
    this.child = undefined;
  }

  /** Everything Redis kept on disk is gone: the next start is an empty Redis. */
  wipe(): void {
    for (const entry of readdirSync(this.dir)) {
      if (entry === 'redis.log') continue;
      rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    await this.kill9();
  }
}

/** Airlock's processes of one deployment: several APIs and workers sharing one database and Redis. */
export class AirlockProcesses {
  readonly apis: Array<{ url: string; proc: ServiceProcess | undefined; port: number }> = [];
  readonly workers: Array<ServiceProcess | undefined> = [];

  constructor(
    private readonly dir: string,
    private readonly env: Record<string, string>,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async startApis(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      this.apis.push({ url: `http://127.0.0.1:${port}`, proc: undefined, port });
      await this.startApi(i);
    }
  }

  async startApi(i: number): Promise<void> {
    const api = this.apis[i];
    api.proc = await spawnService({
      name: `airlock-api-${i}`,
      script: builtScript('apps/api/main.js'),
      env: { ...this.env, API_PORT: String(api.port), API_HOST: '127.0.0.1' },
      logFile: join(this.dir, `api-${i}.log`),
      ready: (child) => httpOk(`${api.url}/healthz`, child),
      timeoutMs: 120_000,
    });
  }

  async killApi(i: number): Promise<void> {
    await this.apis[i].proc?.stop('SIGKILL');
    this.apis[i].proc = undefined;
  }

  async startWorkers(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.workers.push(undefined);
      await this.startWorker(i);
    }
  }

  async startWorker(i: number): Promise<void> {
    this.workers[i] = await spawnService({
      name: `airlock-worker-${i}`,
      script: builtScript('apps/worker/main.js'),
      env: this.env,
      logFile: join(this.dir, `worker-${i}.log`),
      timeoutMs: 120_000,
      ready: workerReady,
    });
  }

  async killWorker(i: number): Promise<void> {
    await this.workers[i]?.stop('SIGKILL');
    this.workers[i] = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apis.map((a) => a.proc?.stop()), ...this.workers.map((w) => w?.stop())]);
  }
}
