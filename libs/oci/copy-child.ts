// The copy process: forked by the worker (copy-process.ts) to move blobs registry to registry, so
// the worker's own memory (Nest, TypeORM, every check: 188 MB before it copies a byte) is not
// where the bytes pass. It loads libs/oci and nothing else; tokens come from the worker, which
// keeps the credentials (copy-protocol.ts).
//
// Run with `--max-semi-space-size=1 --expose-gc` (CHILD_NODE_FLAGS): each 64 KiB socket read is an
// array buffer that is garbage as soon as it has been written on, but its JS object is too small
// to fill the young generation, so without help V8 frees the buffers only when its external-memory
// limit forces a collection (70–100 MB of them during a 1 GiB copy). A young-generation collection
// every GC_INTERVAL_MS during a copy frees them as they are done with.
import { readFileSync } from 'node:fs';
import {
  type ChildMessage,
  type CopyCommand,
  CopyCancelledError,
  type CopySide,
  type CopyUsage,
  fromWireError,
  isParentMessage,
  type ParentMessage,
  toWireError,
  toWireResult,
  type WireEndpoint,
} from './copy-protocol';
import { copyImage } from './image-copy';
import { RegistryClient } from './registry-client';
import { type RegistryConfig, type RegistryTokenSupplier } from './registry-config';

const GC_INTERVAL_MS = 20;

interface RunningCopy {
  controller: AbortController;
  clients: RegistryClient[];
  /** Token questions this copy waits on, by question number. */
  questions: Map<number, { resolve: (token: string) => void; reject: (error: Error) => void }>;
  peaks: { arrayBuffers: number; heapUsed: number };
}

const copies = new Map<number, RunningCopy>();
let nextQuestion = 0;
let ticker: NodeJS.Timeout | undefined;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** The young-generation collection and the memory samples, while any copy runs. */
function tick(): void {
  globalThis.gc?.({ type: 'minor' });
  const { arrayBuffers, heapUsed } = process.memoryUsage();
  for (const copy of copies.values()) {
    copy.peaks.arrayBuffers = Math.max(copy.peaks.arrayBuffers, arrayBuffers);
    copy.peaks.heapUsed = Math.max(copy.peaks.heapUsed, heapUsed);
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

function usage(copy: RunningCopy, cpu: NodeJS.CpuUsage): CopyUsage {
  tick();
  const spent = process.cpuUsage(cpu);
  return {
    pid: process.pid,
    peakRss: peakRss(),
    cpuMs: (spent.user + spent.system) / 1000,
    arrayBuffersPeak: copy.peaks.arrayBuffers,
    heapUsedPeak: copy.peaks.heapUsed,
  };
}

function clientFor(id: number, side: CopySide, endpoint: WireEndpoint, copy: RunningCopy): RegistryClient {
  const { credentials, ...rest } = endpoint.registry;
  const ask: RegistryTokenSupplier = (scope, challenge) =>
    new Promise<string>((resolve, reject) => {
      const question = ++nextQuestion;
      copy.questions.set(question, { resolve, reject });
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
  copy.clients.push(client);
  return client;
}

async function runCopy(command: CopyCommand): Promise<void> {
  const { id } = command;
  const copy: RunningCopy = {
    controller: new AbortController(),
    clients: [],
    questions: new Map(),
    peaks: { arrayBuffers: 0, heapUsed: 0 },
  };
  copies.set(id, copy);
  ticker ??= setInterval(tick, GC_INTERVAL_MS);
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
    for (const client of copy.clients) client.close();
    copies.delete(id);
    if (copies.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }
}

function cancel(id: number): void {
  const copy = copies.get(id);
  if (copy === undefined) return;
  copy.controller.abort();
  // Cut the connections in flight: a blob stream would otherwise run to its end.
  for (const client of copy.clients) client.close();
  for (const waiting of copy.questions.values()) waiting.reject(new CopyCancelledError('cancelled'));
  copy.questions.clear();
}

function answer(message: Extract<ParentMessage, { type: 'token' }>): void {
  const waiting = copies.get(message.id)?.questions;
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
