// There is no Docker engine here, so the compose files are checked for what an engine would trip
// on, from `docker-compose config`'s resolved view (env files merged, paths absolute): every
// Airlock service's environment passes Airlock's own configuration validation, every file it
// references exists (or is a mounted volume or secret), and every address names a service on the
// port that service listens on. Both the deployment and the development overlay.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../libs/config/airlock-config';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

interface Service {
  image?: string;
  build?: { context: string };
  command?: string | string[];
  environment?: Record<string, string>;
  volumes?: Array<string | { source?: string; target: string }>;
  secrets?: Array<{ source: string; target?: string }>;
}

interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

/** A command as its words (compose keeps a string command as written). */
const commandOf = (s: Service): string[] =>
  typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []);

const mounts = (s: Service): Array<{ source: string; target: string }> =>
  (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target };
    const [source, target] = v.split(':');
    return { source, target };
  });

/** A container path is provided when a volume or secret is mounted at it or above it. */
function provided(s: Service, path: string): boolean {
  const targets = [
    ...mounts(s).map((m) => m.target),
    ...(s.secrets ?? []).map((x) => x.target ?? `/run/secrets/${x.source}`),
  ];
  return targets.some((t) => path === t || path.startsWith(`${t}/`));
}

/** The port a service listens on, from what it is told. */
function listensOn(name: string, s: Service): number {
  const cmd = commandOf(s);
  const flag = cmd.indexOf('--port');
  if (flag >= 0) return Number(cmd[flag + 1]);
  if (s.environment?.API_PORT) return Number(s.environment.API_PORT);
  if (s.image?.startsWith('postgres')) return 5432;
  if (s.image?.startsWith('redis')) return 6379;
  if (s.image?.startsWith('registry')) return 5000;
  throw new Error(`do not know what ${name} listens on`);
}

const isAirlock = (s: Service): boolean => commandOf(s).some((c) => c.startsWith('dist/'));

/** The resolved configuration of the compose files, with secrets made by scripts/compose-secrets.sh. */
async function resolved(files: readonly string[]): Promise<Compose> {
  const secrets = join(mkdtempSync(join(tmpdir(), 'airlock-compose-')), 'secrets');
  await run('bash', [join(ROOT, 'scripts/compose-secrets.sh'), secrets]);
  const args = files.flatMap((f) => ['-f', join(ROOT, f)]);
  const env = { ...process.env, AIRLOCK_SECRETS: secrets };
  await run('docker-compose', [...args, 'config', '-q'], { cwd: ROOT, env });
  const { stdout } = await run('docker-compose', [...args, 'config'], { cwd: ROOT, env });
  return parseYaml(stdout) as Compose;
}

function configProblems(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

describe.each([
  ['the deployment', ['docker-compose.yml']],
  ['the development overlay', ['docker-compose.yml', 'docker-compose.dev.yml']],
])('%s', (_, files) => {
  let compose: Compose;

  beforeAll(async () => {
    compose = await resolved(files);
  }, 60_000);

  it("gives every Airlock process an environment Airlock's configuration accepts", () => {
    const airlock = Object.entries(compose.services).filter(
      ([, s]) => isAirlock(s) && s.environment?.DATABASE_URL,
    );
    expect(airlock.map(([n]) => n)).toEqual(expect.arrayContaining(['api', 'worker', 'migrate']));
    for (const [name, s] of airlock) {
      expect({ name, problems: configProblems(s.environment ?? {}) }).toEqual({ name, problems: [] });
    }
  });

  it('references only files that exist, or paths a volume or secret provides', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build)
        expect({ name, dockerfile: existsSync(join(s.build.context, 'Dockerfile')) }).toEqual({
          name,
          dockerfile: true,
        });
      for (const m of mounts(s)) {
        if (m.source.startsWith('/')) {
          expect({ name, source: m.source, exists: existsSync(m.source) }).toMatchObject({ exists: true });
        } else {
          expect({ name, volume: m.source, declared: m.source in (compose.volumes ?? {}) }).toMatchObject({
            declared: true,
          });
        }
      }
      for (const x of s.secrets ?? []) {
        const file = compose.secrets?.[x.source]?.file;
        expect({ name, secret: x.source, exists: !!file && existsSync(file) }).toMatchObject({
          exists: true,
        });
      }
      // Files Airlock is told to read are mounted; its scripts are built from sources that exist.
      const told = [
        'AIRLOCK_SIGNING_KEY_FILE',
        'PGPASSFILE',
        'AIRLOCK_SECRETS_DIR',
        'AIRLOCK_BOOTSTRAP_FILE',
        'SEED_RELEASE_KEY_FILE',
      ];
      for (const key of told) {
        const path = s.environment?.[key];
        if (path) expect({ name, key, path, provided: provided(s, path) }).toMatchObject({ provided: true });
      }
      const checkpoint = s.environment?.AUDIT_CHECKPOINT_FILE;
      if (checkpoint) {
        expect({ name, checkpoint, provided: provided(s, posix.dirname(checkpoint)) }).toMatchObject({
          provided: true,
        });
      }
      for (const arg of commandOf(s)) {
        const script = /^dist\/(.+)\.js$/.exec(arg)?.[1];
        const nodeModule = /^node_modules\/(.+)$/.exec(arg)?.[1];
        if (script)
          expect({ name, script, exists: existsSync(join(ROOT, `${script}.ts`)) }).toMatchObject({
            exists: true,
          });
        if (nodeModule)
          expect({ name, nodeModule, exists: existsSync(join(ROOT, arg)) }).toMatchObject({ exists: true });
      }
    }
  });

  it('names services by address, on the ports they listen on', () => {
    const services = compose.services;
    const addresses: Array<{ where: string; host: string; port: number | undefined }> = [];
    const add = (where: string, text: string): void => {
      for (const part of text.split(',')) {
        const url = /^[a-z]+:\/\//.test(part) ? new URL(part) : new URL(`tcp://${part}`);
        // Names with a dot are the operator's (DNS); a bare name must be one of these services.
        if (url.hostname.includes('.') || part.includes('*')) continue;
        addresses.push({ where, host: url.hostname, port: url.port ? Number(url.port) : undefined });
      }
    };
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/(_URL|_HOSTS|_ISSUER|_REGISTRY)$/.test(key)) add(`${name} ${key}`, value);
      }
      const issuer = commandOf(s).indexOf('--issuer');
      if (issuer >= 0) add(`${name} --issuer`, commandOf(s)[issuer + 1]);
      for (const m of mounts(s)) {
        if (m.target.endsWith('bootstrap.json')) {
          const bootstrap = JSON.parse(readFileSync(m.source, 'utf8')) as {
            trustedIssuers: Array<{ issuer: string }>;
          };
          for (const t of bootstrap.trustedIssuers) add(`${name} bootstrap`, t.issuer);
        }
        if (m.target === '/etc/docker/registry/config.yml') {
          const config = parseYaml(readFileSync(m.source, 'utf8')) as {
            auth?: { token?: { realm: string; issuer: string } };
          };
          if (config.auth?.token) add(`${name} registry realm`, config.auth.token.realm);
        }
      }
    }
    expect(addresses.length).toBeGreaterThan(2);
    for (const a of addresses) {
      const target = services[a.host];
      expect({ ...a, service: target ? 'yes' : 'no' }).toMatchObject({ service: 'yes' });
      if (a.port !== undefined)
        expect({ ...a, listens: listensOn(a.host, target) }).toMatchObject({ listens: a.port });
    }
  });
});

describe('the development overlay', () => {
  it('has the registries trust the certificate the people issuer writes, through the volume they share', async () => {
    const services = (await resolved(['docker-compose.yml', 'docker-compose.dev.yml'])).services;
    const people = services['dev-oidc-people'];
    const out = commandOf(people)[commandOf(people).indexOf('--registry-cert-out') + 1];
    const peopleVolume = mounts(people).find((m) => out.startsWith(`${m.target}/`))!;
    for (const name of ['registry-staging', 'registry-prod']) {
      const registry = services[name];
      const configFile = mounts(registry).find((m) => m.target === '/etc/docker/registry/config.yml')!.source;
      const config = parseYaml(readFileSync(configFile, 'utf8')) as {
        auth: { token: { rootcertbundle: string } };
      };
      const bundle = config.auth.token.rootcertbundle;
      const certs = mounts(registry).find((m) => bundle.startsWith(`${m.target}/`))!;
      expect(certs.source).toBe(peopleVolume.source);
      expect(bundle.slice(certs.target.length)).toBe(out.slice(peopleVolume.target.length));
    }
  }, 60_000);
});
