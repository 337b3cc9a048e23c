import { ApiError, ConnectionError } from './api-client';
import { type Problem } from './api-types';

/** process.stdout and process.stderr, or a test's buffer: the callback fires once the chunk is out. */
export interface Writer {
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): unknown;
}

/**
 * A stream that may be closed by its reader (a pipe into `head`): once it fails (EPIPE, or any
 * write error), further writes are dropped instead of raising an unhandled 'error' event, which
 * would crash the CLI with a stack trace and exit code 1 whatever the action's outcome was.
 */
export function closableWriter(stream: NodeJS.WritableStream & { destroyed?: boolean }): Writer {
  let closed = false;
  stream.on('error', () => {
    closed = true;
  });
  return {
    write(chunk, callback) {
      if (closed || stream.destroyed) {
        callback?.();
        return false;
      }
      return stream.write(chunk, (error) => {
        if (error) closed = true;
        // A failed write is not the command's failure: whoever waits on the flush goes on.
        callback?.();
      });
    },
  };
}

/**
 * Where the CLI writes: results on stdout (JSON with --json), progress and errors on stderr.
 * Everything passes through redact(), so a token can never reach the terminal or a CI log.
 */
export class Output {
  private readonly secrets: string[];

  constructor(
    readonly stdout: Writer,
    readonly stderr: Writer,
    secrets: readonly string[] = [],
  ) {
    this.secrets = [...secrets];
  }

  /** A value learnt later (a token read from a file) that must not be printed either. */
  addSecret(secret: string): void {
    if (secret.length >= 4 && !this.secrets.includes(secret)) this.secrets.push(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /** A line of the result. */
  line(text = ''): void {
    this.stdout.write(`${this.redact(text)}\n`);
  }

  lines(texts: readonly string[]): void {
    for (const t of texts) this.line(t);
  }

  json(value: unknown): void {
    this.stdout.write(`${this.redact(JSON.stringify(value, null, 2))}\n`);
  }

  /** Progress and hints: stderr, so stdout stays the result. */
  note(text: string): void {
    this.stderr.write(`${this.redact(text)}\n`);
  }

  /** `error: <detail> (<code>)`, then the field errors, on stderr. With --json the problem on stdout too. */
  error(e: unknown, json = false): void {
    for (const l of errorLines(e)) this.note(l);
    if (json && e instanceof ApiError && e.problem) this.json({ error: e.problem });
  }
}

export function problemLines(p: Problem): string[] {
  const lines = [`error: ${p.detail} (${p.code})`];
  for (const f of p.errors ?? []) lines.push(`  - ${f.field}: ${f.message}`);
  if (p.code === 'unauthenticated') {
    lines.push('hint: pass a valid token with --token-file, AIRLOCK_TOKEN or --token');
  }
  if (p.status >= 500 && p.requestId) lines.push(`request id: ${p.requestId}`);
  return lines;
}

export function errorLines(e: unknown): string[] {
  if (e instanceof ApiError) return e.problem ? problemLines(e.problem) : [`error: ${e.message}`];
  if (e instanceof ConnectionError) return [`error: ${e.message}`];
  return [`error: ${e instanceof Error ? e.message : String(e)}`];
}

/** Left-aligned columns, the last one unpadded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** `key  value` pairs with the keys aligned, indented by two spaces. */
export function fields(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}
