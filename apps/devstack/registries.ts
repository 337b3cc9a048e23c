import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServiceProcess, spawnService } from './processes';

export interface DevRegistry {
  host: string;
  service: string;
  proc: ServiceProcess;
}

/**
 * Debian's docker-registry (distribution 2.8) on loopback with token auth: it accepts JWTs that
 * the development issuer signs (its certificate is the rootcertbundle), with `aud` = `service`.
 */
export async function startDevRegistry(o: {
  dataDir: string;
  name: string;
  port: number;
  service: string;
  issuer: string;
  rootCertBundle: string;
}): Promise<DevRegistry> {
  const dir = join(o.dataDir, o.name);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  // JSON is valid YAML.
  writeFileSync(
    config,
    JSON.stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${o.port}` },
      auth: {
        token: {
          realm: `${o.issuer}/token`,
          service: o.service,
          issuer: o.issuer,
          rootcertbundle: o.rootCertBundle,
        },
      },
    }),
  );
  const url = `http://127.0.0.1:${o.port}/v2/`;
  const proc = await spawnService({
    name: o.name,
    command: 'docker-registry',
    script: 'serve',
    args: [config],
    env: {},
    logFile: join(dir, 'registry.log'),
    ready: async () => {
      for (;;) {
        try {
          const res = await fetch(url);
          await res.body?.cancel();
          if (res.status === 200 || res.status === 401) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  });
  return { host: `127.0.0.1:${o.port}`, service: o.service, proc };
}
