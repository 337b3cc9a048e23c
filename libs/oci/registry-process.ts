// The worker's side of its registry processes (registry-child.ts): forks them, hands them copies
// or secret scans, answers their token questions with the credentials the worker keeps, and turns
// what they report (or their death) into the result or error the same work done in the worker
// would have given.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LayerScan } from '../scan';
import { Failure } from '../domain/failure';
import { type CopyOptions } from './copier';
import {
  type ChildMessage,
  CopyCancelledError,
  type CopySide,
  type ProcessUsage,
  fromWireError,
  fromWireResult,
  isChildMessage,
  type ParentMessage,
  type ScanCommand,
  type TokenQuestion,
  toWireRegistry,
  toWireSupplierError,
} from './process-protocol';
import { RegistryError } from './errors';
import { type ImageCopyResult } from './image-copy';
import { type RegistryConfig } from './registry-config';

/** See registry-child.ts for why. */
export const CHILD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

export interface RegistryProcessOptions {
  /** What the pool's processes do, as their argument: `ps` shows `registry-child.js copy`. */
  role: 'copy' | 'scan';
  /** The process's script; default the compiled registry-child.js beside this file. */
  entry?: string;
  /** Node flags of the process; default CHILD_NODE_FLAGS. */
  execArgv?: readonly string[];
  /**
   * Processes at work at once; a task beyond waits for one to end, first come first served (its
   * signal still cancels it). Default unbounded: the job's own concurrency bounds it.
   */
  maxProcesses?: number;
  /** How long an idle process is kept for the next task (no fork then); default 60 s. */
  idleMs?: number;
  /** How long a cancelled task may take to stop before its process is killed; default 5 s. */
  cancelGraceMs?: number;
  /** How long a new process may take to start listening; default 30 s. */
  startTimeoutMs?: number;
  /**
   * The process's whole environment; default this process's own. The worker passes a trimmed
   * one: a copy or scan needs no database URL or secrets (its tokens come over IPC).
   */
  env?: Readonly<Record<string, string>>;
}

export interface RegistryEndpoint {
  registry: RegistryConfig;
  repository: string;
}

/** How a task's process was come by, and what it used. */
export interface ProcessAccount {
  usage: ProcessUsage;
  /** The process was forked for this task (none was idle). */
  forked: boolean;
  /** How long that process took from the fork to listening, ms (0 when one was idle). */
  startMs: number;
}

export type ProcessCopyResult = ImageCopyResult & ProcessAccount;

/** A scan's layers, as the worker hands them over (the rest of ScanCommand, without its id). */
export type ProcessScanRequest = Omit<ScanCommand, 'type' | 'id' | 'source'>;

/** The messages that end a task, or carry part of its result. */
type TaskReport = Extract<ChildMessage, { type: 'done' | 'layer' | 'scanned' }>;

interface Running {
  id: number;
  /** For messages: `the copy of sha256:…`. */
  what: string;
  /** What a death of its process leaves, for the error: the job retries the task. */
  onDeath: string;
  registries: Partial<Record<CopySide, RegistryConfig>>;
  /** Handles the task's own reports; resolves the caller once it has the task's result. */
  report: (report: TaskReport, account: Omit<ProcessAccount, 'usage'>) => void;
  reject: (error: Error) => void;
  /** The caller has its answer (a cancel answers at once); what the process reports later is dropped. */
  settled: boolean;
  forked: boolean;
  cleanup: () => void;
}

class RegistryChild {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  /** From the fork to the process listening, ms. */
  startMs = 0;
  running: Running | undefined;
  exited = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    entry: string,
    role: string,
    execArgv: readonly string[],
    startTimeoutMs: number,
    env: Readonly<Record<string, string>> | undefined,
  ) {
    const forkedAt = performance.now();
    this.process = fork(entry, [role], {
      execArgv: [...execArgv],
      ...(env === undefined ? {} : { env: { ...env } }),
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(Failure.transient(`the registry process did not start within ${startTimeoutMs} ms`));
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
        reject(
          Failure.transient(`the registry process ended (${exitReason(code, signal)}) before it started`),
        );
      });
      this.process.once('error', (error) => {
        clearTimeout(timer);
        reject(Failure.transient(`the registry process could not be started (${error.message})`));
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
 * Copies or secret scans in processes of their own: one process per task running (its peak memory
 * is that one task's), and one idle process kept for `idleMs` so the next task does not pay a
 * fork. The worker keeps one pool for copies and one for scans, so a copy process never holds the
 * scanner. Errors keep their meaning across the boundary (a RegistryError stays one, permanent or
 * not); a process that dies mid-task fails that task as transient, so the job retries it.
 */
export class RegistryProcessPool {
  private readonly role: string;
  private readonly entry: string;
  private readonly execArgv: readonly string[];
  private readonly idleMs: number;
  private readonly cancelGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly env: Readonly<Record<string, string>> | undefined;
  private readonly maxProcesses: number;
  private idle: RegistryChild | undefined;
  private readonly busy = new Set<RegistryChild>();
  /** Slots taken: one per busy process, and one per task granted a slot and still starting. */
  private slots = 0;
  /** Tasks waiting for a slot; granting one hands it over (`slots` stays as it is). */
  private readonly waiting: Array<{ grant: () => void }> = [];
  private nextId = 0;
  private closed = false;

  constructor(options: RegistryProcessOptions) {
    this.role = options.role;
    this.maxProcesses = options.maxProcesses ?? Infinity;
    this.entry = options.entry ?? join(__dirname, 'registry-child.js');
    this.execArgv = options.execArgv ?? CHILD_NODE_FLAGS;
    this.idleMs = options.idleMs ?? 60_000;
    this.cancelGraceMs = options.cancelGraceMs ?? 5_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.env = options.env;
  }

  /** Processes alive now: at work, and kept for the next task; tasks waiting for one. */
  get processes(): { busy: number; idle: number; waiting: number } {
    return { busy: this.busy.size, idle: this.idle === undefined ? 0 : 1, waiting: this.waiting.length };
  }

  /**
   * Copies the image `digest` with its evidence (copyImage) in a copy process. `options.signal`
   * cancels it: the promise rejects at once with a CopyCancelledError, and the process stops the
   * copy (or is killed after `cancelGraceMs`).
   */
  async copy(
    source: RegistryEndpoint,
    target: RegistryEndpoint,
    digest: string,
    options: CopyOptions = {},
  ): Promise<ProcessCopyResult> {
    const { signal, ...rest } = options;
    return this.run<ProcessCopyResult>(
      `the copy of ${digest}`,
      'nothing it left names the digest, and the copy is tried again',
      { source: source.registry, target: target.registry },
      signal,
      (id) => ({
        type: 'copy',
        id,
        digest,
        source: { registry: toWireRegistry(source.registry), repository: source.repository },
        target: { registry: toWireRegistry(target.registry), repository: target.repository },
        options: { ...rest, mountFrom: rest.mountFrom === undefined ? undefined : [...rest.mountFrom] },
      }),
      (resolve) => (report, account) => {
        if (report.type === 'done')
          resolve({ ...fromWireResult(report.result), usage: report.usage, ...account });
      },
    );
  }

  /**
   * Reads `request.layers` of `source` for secrets (libs/scan's runScanTask) in a scan process,
   * handing each layer's scan to `onLayer` as it ends; resolves once every `onLayer` has.
   */
  async scan(
    source: RegistryEndpoint,
    request: ProcessScanRequest,
    onLayer: (digest: string, scan: LayerScan) => Promise<void>,
    options: { signal?: AbortSignal; deadlineMs?: number } = {},
  ): Promise<ProcessAccount> {
    const layers: Array<Promise<void>> = [];
    return this.run<ProcessAccount>(
      `the secret scan of ${request.layers.length} layer(s) of ${source.repository}`,
      'the scan is tried again',
      { source: source.registry },
      options.signal,
      (id) => ({
        type: 'scan',
        id,
        ...request,
        source: { registry: toWireRegistry(source.registry), repository: source.repository },
      }),
      (resolve, reject) => (report, account) => {
        if (report.type === 'layer') {
          const handled = onLayer(report.digest, report.scan);
          handled.catch(() => undefined);
          layers.push(handled);
        } else if (report.type === 'scanned') {
          Promise.all(layers).then(() => resolve({ usage: report.usage, ...account }), reject);
        }
      },
      options.deadlineMs,
    );
  }

  /**
   * Stops taking tasks and kills the idle process. Tasks running finish (the worker waits for its
   * jobs when it stops), and their processes are then killed instead of kept.
   */
  close(): void {
    this.closed = true;
    this.idle?.kill();
    this.idle = undefined;
  }

  /**
   * Runs one task in a process: `command` is sent once the process listens, and `reporter` turns
   * the task's reports into its result. The process is released when the task has ended in it
   * (`done`, `scanned` or `failed`), not when the caller has its answer.
   */
  private async run<T>(
    what: string,
    onDeath: string,
    registries: Running['registries'],
    signal: AbortSignal | undefined,
    command: (id: number) => Exclude<ParentMessage, { type: 'token' | 'cancel' }>,
    reporter: (resolve: (result: T) => void, reject: (error: Error) => void) => Running['report'],
    /** From sending the task: past it the task fails as transient and its process is stopped. */
    deadlineMs?: number,
  ): Promise<T> {
    if (signal?.aborted) throw new CopyCancelledError(`${what} was cancelled before it started`);
    if (this.closed) throw Failure.transient(`the worker is stopping: ${what} is not started`);
    // Without a wait when a slot is free: the process starts in this same turn.
    if (this.slots < this.maxProcesses) this.slots += 1;
    else {
      await this.slotFreed(what, signal);
      if (this.closed || signal?.aborted) {
        this.freeSlot();
        if (signal?.aborted) throw new CopyCancelledError(`${what} was cancelled before it started`);
        throw Failure.transient(`the worker is stopping: ${what} is not started`);
      }
    }
    const forked = this.idle === undefined;
    let child: RegistryChild;
    try {
      child = this.idle ?? this.spawn();
    } catch (error) {
      this.freeSlot();
      throw error;
    }
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
      throw new CopyCancelledError(`${what} was cancelled before it started`);
    }
    return new Promise<T>((resolve, reject) => {
      const id = ++this.nextId;
      const onAbort = (): void => this.stop(child, id, new CopyCancelledError(`${what} was cancelled`));
      signal?.addEventListener('abort', onAbort, { once: true });
      const deadline =
        deadlineMs === undefined
          ? undefined
          : setTimeout(() => {
              const s = deadlineMs / 1000;
              this.stop(
                child,
                id,
                Failure.transient(`${what} did not end within ${s} s; its process was stopped`),
              );
            }, deadlineMs);
      deadline?.unref();
      const run: Running = {
        id,
        what,
        onDeath,
        registries,
        report: reporter(
          (result) => this.finish(run, () => resolve(result)),
          (error) => this.finish(run, () => reject(error)),
        ),
        reject,
        settled: false,
        forked,
        cleanup: () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(deadline);
        },
      };
      child.running = run;
      child.send(command(id));
    });
  }

  private spawn(): RegistryChild {
    const child = new RegistryChild(this.entry, this.role, this.execArgv, this.startTimeoutMs, this.env);
    child.process.on('message', (message: unknown) => {
      if (isChildMessage(message)) this.receive(child, message);
    });
    child.process.once('exit', (code, signal) => {
      child.exited = true;
      clearTimeout(child.idleTimer);
      if (this.idle === child) this.idle = undefined;
      this.leave(child);
      const run = child.running;
      child.running = undefined;
      if (run !== undefined) {
        this.fail(
          run,
          Failure.transient(
            `the registry process ended (${exitReason(code, signal)}) during ${run.what}; ${run.onDeath}`,
          ),
        );
      }
    });
    return child;
  }

  private receive(child: RegistryChild, message: ChildMessage): void {
    const run = child.running;
    if (message.type === 'ready' || run === undefined || message.id !== run.id) return;
    switch (message.type) {
      case 'token':
        this.answer(child, run, message);
        return;
      case 'layer':
        if (!run.settled) run.report(message, this.account(child, run));
        return;
      case 'done':
      case 'scanned':
        child.running = undefined;
        if (!run.settled) run.report(message, this.account(child, run));
        this.release(child);
        return;
      case 'failed':
        child.running = undefined;
        this.fail(run, fromWireError(message.error));
        this.release(child);
        return;
    }
  }

  private account(child: RegistryChild, run: Running): Omit<ProcessAccount, 'usage'> {
    return { forked: run.forked, startMs: run.forked ? child.startMs : 0 };
  }

  private answer(child: RegistryChild, run: Running, question: TokenQuestion): void {
    const reply = { type: 'token', id: run.id, question: question.question } as const;
    const credentials = run.registries[question.side]?.credentials;
    if (run.settled) {
      child.send({ ...reply, error: { name: 'Cancelled', message: 'cancelled' } });
      return;
    }
    if (credentials === undefined || !('tokenSupplier' in credentials)) {
      // The process asks only for registries configured with a supplier: a confused child.
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

  /** Settles `run` once: the first answer stands. */
  private finish(run: Running, settle: () => void): void {
    if (run.settled) return;
    run.settled = true;
    run.cleanup();
    settle();
  }

  private fail(run: Running, error: Error): void {
    this.finish(run, () => run.reject(error));
  }

  /** Ends a task with `error` now, and its process's work: asked to stop, else killed. */
  private stop(child: RegistryChild, id: number, error: Error): void {
    const run = child.running;
    if (run === undefined || run.id !== id) return;
    this.fail(run, error);
    child.send({ type: 'cancel', id });
    // It reports `failed` once its connections are cut; one that does not is stuck: killed.
    const timer = setTimeout(() => {
      if (child.running?.id === id) child.kill();
    }, this.cancelGraceMs);
    timer.unref();
  }

  /** Resolves when a slot is handed to this task (maxProcesses are at work now). */
  private async slotFreed(what: string, signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const entry = {
        grant: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new CopyCancelledError(`${what} was cancelled before it started`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** A task's slot is free: handed to the first task waiting, if any. */
  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.grant();
    else this.slots -= 1;
  }

  /** A process stops working (done, retired or dead): its slot is free. */
  private leave(child: RegistryChild): void {
    if (this.busy.delete(child)) this.freeSlot();
  }

  /** After a task: kept as the idle process if there is none, else ended. */
  private release(child: RegistryChild): void {
    this.leave(child);
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

  private retire(child: RegistryChild): void {
    this.leave(child);
    child.kill();
  }
}
