import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { basename, dirname, resolve } from 'node:path';

/** The repository root, whether this file runs from source or from dist/. */
export function repositoryRoot(): string {
  const root = resolve(__dirname, '..', '..');
  return basename(root) === 'dist' ? dirname(root) : root;
}

export function builtScript(relative: string): string {
  return resolve(repositoryRoot(), 'dist', relative);
}

/** A port that was free a moment ago (listen on 0, read the port, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Sends a signal and waits for the exit (SIGKILL after a grace period). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: boolean;
  /** Recent output, for error messages. */
  output(): string;
}

export interface SpawnOptions {
  name: string;
  /** The program; default: this Node.js, running `script`. */
  command?: string;
  script: string;
  args?: string[];
  env: Record<string, string>;
  /** Resolves when the service is ready (polls); rejects on timeout. */
  ready: (child: ChildProcess) => Promise<void>;
  logFile?: string;
  timeoutMs?: number;
}

/** Starts a Node program as a child process and waits until it says, or shows, it is ready. */
export async function spawnService(o: SpawnOptions): Promise<ServiceProcess> {
  const child = spawn(o.command ?? process.execPath, [o.script, ...(o.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let recent = '';
  const log = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
  const keep = (chunk: Buffer): void => {
    recent = (recent + chunk.toString('utf8')).slice(-65_536);
    log?.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const handle: ServiceProcess = {
    name: o.name,
    child,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    output: () => recent,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      process.removeListener('exit', killOnExit);
      if (handle.exited) return;
      const done = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill(signal);
      await done;
      clearTimeout(timer);
      log?.end();
    },
  };

  // Generous: on a loaded machine a Node service can take tens of seconds to load and start; the
  // bound only decides how long a broken start takes to be reported.
  const timeout = o.timeoutMs ?? 120_000;
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${o.name} not ready within ${timeout} ms:\n${recent}`)),
      timeout,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${o.name} exited before it was ready (code ${code}, signal ${signal}):\n${recent}`));
    });
    o.ready(child).then(
      () => {
        clearTimeout(timer);
        resolveReady();
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }).catch(async (e: unknown) => {
    await handle.stop('SIGKILL');
    throw e;
  });
  child.removeAllListeners('exit');
  return handle;
}

/** Ready when stdout prints a JSON line with this event; resolves with the parsed line. */
export function jsonLine<T extends { event: string }>(child: ChildProcess, event: string): Promise<T> {
  return new Promise((resolveLine) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as T;
          if (parsed.event === event) {
            child.stdout?.off('data', onData);
            resolveLine(parsed);
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    };
    child.stdout?.on('data', onData);
  });
}

/** Ready when a URL answers 200. */
export async function httpOk(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
