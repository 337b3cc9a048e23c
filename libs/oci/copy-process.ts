// The worker's side of the copy process (copy-child.ts): forks it, hands it copies, answers its
// token questions with the credentials the worker keeps, and turns what it reports (or its death)
// into the result or error an in-process copy would have given.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Failure } from '../domain/failure';
import { type CopyOptions } from './copier';
import {
  type ChildMessage,
  CopyCancelledError,
  type CopySide,
  type CopyUsage,
  fromWireError,
  fromWireResult,
  isChildMessage,
  type ParentMessage,
  type TokenQuestion,
  toWireRegistry,
  toWireSupplierError,
} from './copy-protocol';
import { RegistryError } from './errors';
import { type ImageCopyResult } from './image-copy';
import { type RegistryConfig } from './registry-config';

/** See copy-child.ts for why. */
export const CHILD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

export interface CopyProcessOptions {
  /** The copy process's script; default the compiled copy-child.js beside this file. */
  entry?: string;
  /** Node flags of the copy process; default CHILD_NODE_FLAGS. */
  execArgv?: readonly string[];
  /** How long an idle copy process is kept for the next copy (no fork then); default 60 s. */
  idleMs?: number;
  /** How long a cancelled copy may take to stop before its process is killed; default 5 s. */
  cancelGraceMs?: number;
  /** How long a new copy process may take to start listening; default 30 s. */
  startTimeoutMs?: number;
  /**
   * The copy process's whole environment; default this process's own. The worker passes a trimmed
   * one: the copy needs no database URL or secrets (its tokens come over IPC).
   */
  env?: Readonly<Record<string, string>>;
}

export interface CopyProcessEndpoint {
  registry: RegistryConfig;
  repository: string;
}

export interface ProcessCopyResult extends ImageCopyResult {
  usage: CopyUsage;
  /** The copy process was forked for this copy (none was idle). */
  forked: boolean;
  /** How long that process took from the fork to listening, ms (0 when one was idle). */
  startMs: number;
}

interface Running {
  id: number;
  digest: string;
  registries: Record<CopySide, RegistryConfig>;
  resolve: (result: ProcessCopyResult) => void;
  reject: (error: Error) => void;
  /** The caller has its answer (a cancel answers at once); what the process reports later is dropped. */
  settled: boolean;
  forked: boolean;
  cleanup: () => void;
}

class CopyChild {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  /** From the fork to the process listening, ms. */
  startMs = 0;
  running: Running | undefined;
  exited = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    entry: string,
    execArgv: readonly string[],
    startTimeoutMs: number,
    env: Readonly<Record<string, string>> | undefined,
  ) {
    const forkedAt = performance.now();
    this.process = fork(entry, [], {
      execArgv: [...execArgv],
      ...(env === undefined ? {} : { env: { ...env } }),
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(Failure.transient(`the copy process did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      const onMessage = (message: unknown): void => {
        if (!isChildMessage(message) || message.type !== 'ready') return;
        clearTimeout(timer);
        this.process.off('message', onMessage);
        this.startMs = performance.now() - forkedAt;
        resolve();
      };
      this.process.on('message', onMessage);
      this.process.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(Failure.transient(`the copy process ended (${exitReason(code, signal)}) before it started`));
      });
      this.process.once('error', (error) => {
        clearTimeout(timer);
        reject(Failure.transient(`the copy process could not be started (${error.message})`));
      });
    });
    // Nobody may wait on ready (a pooled process that dies while idle).
    this.ready.catch(() => undefined);
  }

  send(message: ParentMessage): void {
    if (!this.exited && this.process.connected) this.process.send(message, () => undefined);
  }

  /** While idle it keeps nothing alive: a worker (or benchmark) that is done may exit. */
  hold(held: boolean): void {
    if (held) {
      this.process.ref();
      this.process.channel?.ref();
    } else {
      this.process.unref();
      this.process.channel?.unref();
    }
  }

  kill(): void {
    clearTimeout(this.idleTimer);
    if (!this.exited) this.process.kill('SIGKILL');
  }
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${code}`;
}

/**
 * Copies in processes of their own: one process per copy running (its peak memory is that one
 * copy's), and one idle process kept for `idleMs` so the next copy does not pay a fork. Errors
 * keep their meaning across the boundary (a RegistryError stays one, permanent or not); a process
 * that dies mid-copy fails that copy as transient, so the job retries it.
 */
export class CopyProcessPool {
  private readonly entry: string;
  private readonly execArgv: readonly string[];
  private readonly idleMs: number;
  private readonly cancelGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly env: Readonly<Record<string, string>> | undefined;
  private idle: CopyChild | undefined;
  private readonly busy = new Set<CopyChild>();
  private nextId = 0;
  private closed = false;

  constructor(options: CopyProcessOptions = {}) {
    this.entry = options.entry ?? join(__dirname, 'copy-child.js');
    this.execArgv = options.execArgv ?? CHILD_NODE_FLAGS;
    this.idleMs = options.idleMs ?? 60_000;
    this.cancelGraceMs = options.cancelGraceMs ?? 5_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.env = options.env;
  }

  /** Copy processes alive now: copying, and kept for the next copy. */
  get processes(): { busy: number; idle: number } {
    return { busy: this.busy.size, idle: this.idle === undefined ? 0 : 1 };
  }

  /**
   * Copies the image `digest` with its evidence (copyImage) in a copy process. `options.signal`
   * cancels it: the promise rejects at once with a CopyCancelledError, and the process stops the
   * copy (or is killed after `cancelGraceMs`).
   */
  async copy(
    source: CopyProcessEndpoint,
    target: CopyProcessEndpoint,
    digest: string,
    options: CopyOptions = {},
  ): Promise<ProcessCopyResult> {
    const { signal, ...rest } = options;
    if (signal?.aborted)
      throw new CopyCancelledError(`the copy of ${digest} was cancelled before it started`);
    if (this.closed) throw Failure.transient('the worker is stopping: no new copy is started');
    const forked = this.idle === undefined;
    const child = this.idle ?? this.spawn();
    this.idle = undefined;
    clearTimeout(child.idleTimer);
    child.hold(true);
    this.busy.add(child);
    try {
      await child.ready;
    } catch (error) {
      this.retire(child);
      throw error;
    }
    if (signal?.aborted) {
      this.release(child);
      throw new CopyCancelledError(`the copy of ${digest} was cancelled before it started`);
    }
    return new Promise<ProcessCopyResult>((resolve, reject) => {
      const id = ++this.nextId;
      const onAbort = (): void => this.cancel(child, id);
      signal?.addEventListener('abort', onAbort, { once: true });
      child.running = {
        id,
        digest,
        registries: { source: source.registry, target: target.registry },
        resolve,
        reject,
        settled: false,
        forked,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      child.send({
        type: 'copy',
        id,
        digest,
        source: { registry: toWireRegistry(source.registry), repository: source.repository },
        target: { registry: toWireRegistry(target.registry), repository: target.repository },
        options: { ...rest, mountFrom: rest.mountFrom === undefined ? undefined : [...rest.mountFrom] },
      });
    });
  }

  /**
   * Stops taking copies and kills the idle process. Copies running finish (the worker waits for its
   * jobs when it stops), and their processes are then killed instead of kept.
   */
  close(): void {
    this.closed = true;
    this.idle?.kill();
    this.idle = undefined;
  }

  private spawn(): CopyChild {
    const child = new CopyChild(this.entry, this.execArgv, this.startTimeoutMs, this.env);
    child.process.on('message', (message: unknown) => {
      if (isChildMessage(message)) this.receive(child, message);
    });
    child.process.once('exit', (code, signal) => {
      child.exited = true;
      clearTimeout(child.idleTimer);
      if (this.idle === child) this.idle = undefined;
      this.busy.delete(child);
      const run = child.running;
      child.running = undefined;
      if (run !== undefined) {
        this.finish(
          run,
          undefined,
          Failure.transient(
            `the copy process ended (${exitReason(code, signal)}) while copying ${run.digest}; ` +
              'nothing it left names the digest, and the copy is tried again',
          ),
        );
      }
    });
    return child;
  }

  private receive(child: CopyChild, message: ChildMessage): void {
    const run = child.running;
    if (message.type === 'ready' || run === undefined || message.id !== run.id) return;
    switch (message.type) {
      case 'token':
        this.answer(child, run, message);
        return;
      case 'done':
        child.running = undefined;
        this.finish(run, {
          ...fromWireResult(message.result),
          usage: message.usage,
          forked: run.forked,
          startMs: run.forked ? child.startMs : 0,
        });
        this.release(child);
        return;
      case 'failed':
        child.running = undefined;
        this.finish(run, undefined, fromWireError(message.error));
        this.release(child);
        return;
    }
  }

  private answer(child: CopyChild, run: Running, question: TokenQuestion): void {
    const reply = { type: 'token', id: run.id, question: question.question } as const;
    const credentials = run.registries[question.side].credentials;
    if (run.settled) {
      child.send({ ...reply, error: { name: 'Cancelled', message: 'cancelled' } });
      return;
    }
    if (credentials === undefined || !('tokenSupplier' in credentials)) {
      // The copy process asks only for registries configured with a supplier: a confused child.
      const error = new RegistryError(
        'unauthorized',
        `no token supplier is configured for the ${question.side} registry`,
      );
      child.send({ ...reply, error: toWireSupplierError(error) });
      return;
    }
    credentials.tokenSupplier(question.scope, question.challenge).then(
      (token) => child.send({ ...reply, token }),
      (error: unknown) => child.send({ ...reply, error: toWireSupplierError(error) }),
    );
  }

  private finish(run: Running, result: ProcessCopyResult | undefined, error?: Error): void {
    if (run.settled) return;
    run.settled = true;
    run.cleanup();
    if (result !== undefined) run.resolve(result);
    else run.reject(error ?? Failure.transient('the copy process reported nothing'));
  }

  private cancel(child: CopyChild, id: number): void {
    const run = child.running;
    if (run === undefined || run.id !== id) return;
    this.finish(run, undefined, new CopyCancelledError(`the copy of ${run.digest} was cancelled`));
    child.send({ type: 'cancel', id });
    // It reports `failed` once its connections are cut; one that does not is stuck: killed.
    const timer = setTimeout(() => {
      if (child.running?.id === id) child.kill();
    }, this.cancelGraceMs);
    timer.unref();
  }

  /** After a copy: kept as the idle process if there is none, else ended. */
  private release(child: CopyChild): void {
    this.busy.delete(child);
    if (this.closed || child.exited || this.idle !== undefined) {
      child.kill();
      return;
    }
    this.idle = child;
    child.hold(false);
    child.idleTimer = setTimeout(() => {
      if (this.idle === child) this.idle = undefined;
      child.kill();
    }, this.idleMs);
    child.idleTimer.unref();
  }

  private retire(child: CopyChild): void {
    this.busy.delete(child);
    child.kill();
  }
}
