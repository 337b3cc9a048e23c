// A registry process: forked by the worker (registry-process.ts) to move blobs registry to registry
// (copies) or to read layers for secrets (scans), so the worker's own memory (Nest, TypeORM, every
// check: 188 MB before it copies a byte) is not where the bytes pass. A copy process loads libs/oci
// and nothing else; a scan process loads libs/scan on its first scan (the worker keeps one pool of
// each, so copies never carry the scanner). Tokens come from the worker, which keeps the
// credentials (process-protocol.ts).
//
// Run with `--max-semi-space-size=1 --expose-gc` (CHILD_NODE_FLAGS): each 64 KiB socket read is an
// array buffer that is garbage as soon as it has been written on, but its JS object is too small
// to fill the young generation, so without help V8 frees the buffers only when its external-memory
// limit forces a collection (70–100 MB of them during a 1 GiB copy; zlib's output chunks while a
// layer decompresses). A young-generation collection every GC_INTERVAL_MS while anything runs
// frees them as they are done with.
import { readFileSync } from 'node:fs';
import {
  type ChildMessage,
  type CopyCommand,
  CopyCancelledError,
  type CopySide,
  type ProcessUsage,
  fromWireError,
  isParentMessage,
  type ParentMessage,
  type ScanCommand,
  toWireError,
  toWireResult,
  type WireEndpoint,
} from './process-protocol';
import { copyImage } from './image-copy';
import { RegistryClient } from './registry-client';
import { type RegistryConfig, type RegistryTokenSupplier } from './registry-config';

const GC_INTERVAL_MS = 20;

/** A copy or a scan running here. */
interface RunningTask {
  controller: AbortController;
  clients: RegistryClient[];
  /** Token questions this task waits on, by question number. */
  questions: Map<number, { resolve: (token: string) => void; reject: (error: Error) => void }>;
  peaks: { arrayBuffers: number; heapUsed: number };
}

const tasks = new Map<number, RunningTask>();
let nextQuestion = 0;
let ticker: NodeJS.Timeout | undefined;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** The young-generation collection and the memory samples, while any task runs. */
function tick(): void {
  globalThis.gc?.({ type: 'minor' });
  const { arrayBuffers, heapUsed } = process.memoryUsage();
  for (const task of tasks.values()) {
    task.peaks.arrayBuffers = Math.max(task.peaks.arrayBuffers, arrayBuffers);
    task.peaks.heapUsed = Math.max(task.peaks.heapUsed, heapUsed);
  }
}

/** VmHWM: the process's own peak RSS (getrusage's would include the worker's, through fork). */
function peakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

function usage(task: RunningTask, cpu: NodeJS.CpuUsage): ProcessUsage {
  tick();
  const spent = process.cpuUsage(cpu);
  return {
    pid: process.pid,
    peakRss: peakRss(),
    cpuMs: (spent.user + spent.system) / 1000,
    arrayBuffersPeak: task.peaks.arrayBuffers,
    heapUsedPeak: task.peaks.heapUsed,
  };
}

function clientFor(id: number, side: CopySide, endpoint: WireEndpoint, task: RunningTask): RegistryClient {
  const { credentials, ...rest } = endpoint.registry;
  const ask: RegistryTokenSupplier = (scope, challenge) =>
    new Promise<string>((resolve, reject) => {
      const question = ++nextQuestion;
      task.questions.set(question, { resolve, reject });
      send({ type: 'token', id, question, side, scope, challenge });
    });
  const config: RegistryConfig = {
    ...rest,
    credentials:
      credentials === undefined
        ? undefined
        : 'askParent' in credentials
          ? { tokenSupplier: ask }
          : credentials,
  };
  const client = new RegistryClient(config);
  task.clients.push(client);
  return client;
}

/** Registers a task under `id` (and starts the collections); `end` forgets it. */
function startTask(id: number): RunningTask {
  const task: RunningTask = {
    controller: new AbortController(),
    clients: [],
    questions: new Map(),
    peaks: { arrayBuffers: 0, heapUsed: 0 },
  };
  tasks.set(id, task);
  ticker ??= setInterval(tick, GC_INTERVAL_MS);
  return task;
}

function endTask(id: number, task: RunningTask): void {
  for (const client of task.clients) client.close();
  tasks.delete(id);
  if (tasks.size === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

async function runCopy(command: CopyCommand): Promise<void> {
  const { id } = command;
  const copy = startTask(id);
  const cpu = process.cpuUsage();
  try {
    const result = await copyImage(
      { client: clientFor(id, 'source', command.source, copy), repository: command.source.repository },
      { client: clientFor(id, 'target', command.target, copy), repository: command.target.repository },
      command.digest,
      { ...command.options, signal: copy.controller.signal },
    );
    send({ type: 'done', id, result: toWireResult(result), usage: usage(copy, cpu) });
  } catch (error) {
    // A cancelled copy fails with whatever its cut connections threw: the cancel is the cause.
    const cause = copy.controller.signal.aborted
      ? new CopyCancelledError(`the copy of ${command.digest} was cancelled`)
      : error;
    send({ type: 'failed', id, error: toWireError(cause), usage: usage(copy, cpu) });
  } finally {
    endTask(id, copy);
  }
}

async function runScan(command: ScanCommand): Promise<void> {
  const { id } = command;
  const scan = startTask(id);
  const cpu = process.cpuUsage();
  try {
    // Here, not at the top: a copy process never loads the scanner and its rules. (`require`: the
    // build keeps `import()` as it is, and Node's ESM resolution wants a file extension.)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runScanTask } = require('../scan/scan-task') as typeof import('../scan/scan-task');
    const client = clientFor(id, 'source', command.source, scan);
    const { repository } = command.source;
    await runScanTask(
      command,
      (layer) => client.getBlob(repository, layer.digest, { maxBytes: layer.size, size: layer.size }),
      async (digest, result) => send({ type: 'layer', id, digest, scan: result }),
      scan.controller.signal,
    );
    // A cancelled scan's layers end with read problems: the cancel is what happened.
    if (scan.controller.signal.aborted) throw new CopyCancelledError('the scan was cancelled');
    send({ type: 'scanned', id, usage: usage(scan, cpu) });
  } catch (error) {
    const cause = scan.controller.signal.aborted ? new CopyCancelledError('the scan was cancelled') : error;
    send({ type: 'failed', id, error: toWireError(cause), usage: usage(scan, cpu) });
  } finally {
    endTask(id, scan);
  }
}

function cancel(id: number): void {
  const task = tasks.get(id);
  if (task === undefined) return;
  task.controller.abort();
  // Cut the connections in flight: a blob stream would otherwise run to its end.
  for (const client of task.clients) client.close();
  for (const waiting of task.questions.values()) waiting.reject(new CopyCancelledError('cancelled'));
  task.questions.clear();
}

function answer(message: Extract<ParentMessage, { type: 'token' }>): void {
  const waiting = tasks.get(message.id)?.questions;
  const question = waiting?.get(message.question);
  if (waiting === undefined || question === undefined) return;
  waiting.delete(message.question);
  if (message.token !== undefined) question.resolve(message.token);
  else question.reject(fromWireError(message.error ?? { name: 'Opaque', errorName: 'Error' }));
}

process.on('message', (message: unknown) => {
  if (!isParentMessage(message)) return;
  switch (message.type) {
    case 'copy':
      void runCopy(message);
      return;
    case 'scan':
      void runScan(message);
      return;
    case 'token':
      answer(message);
      return;
    case 'cancel':
      cancel(message.id);
      return;
  }
});
// The worker is gone (stopped, or killed): nobody is left to report to.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
