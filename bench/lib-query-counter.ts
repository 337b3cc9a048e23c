// Preloaded into a worker by the benches (`node --require dist/bench/lib-query-counter.js`): counts
// the statements the process sends to Postgres, i.e. its round trips (node-postgres sends one
// query, and waits for its answer, at a time per connection; a multi-statement simple query is one
// round trip), by statement: a named statement by its name, others by their first words. The
// counts go to BENCH_QUERY_COUNT_FILE as JSON when the process gets SIGWINCH (and at exit): the
// bench signals before and after what it measures, so the counting costs no file writes while it
// runs. Not SIGUSR2: Nest's shutdown hooks stop the application on that one; SIGWINCH is ignored
// by default, so a process without this listener would not die of it either. Bench-only: nothing in the product loads it.
import { renameSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';

/** What a statement is counted as: its name, or its first words with whitespace folded. */
export function statementKey(query: unknown): string {
  const q = query as { name?: string; text?: string } | string;
  if (typeof q === 'object' && q !== null && q.name) return q.name;
  const text = typeof q === 'string' ? q : (q?.text ?? '?');
  return text.replace(/\s+/g, ' ').trim().slice(0, 60);
}

const file = process.env.BENCH_QUERY_COUNT_FILE;
if (file) {
  const counts: Record<string, number> = {};
  let total = 0;
  const original = Client.prototype.query;
  Client.prototype.query = function counted(this: Client, ...args: unknown[]): unknown {
    total++;
    const key = statementKey(args[0]);
    counts[key] = (counts[key] ?? 0) + 1;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof Client.prototype.query;
  // Whole or not at all: the bench may look the moment the file appears.
  const flush = (): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ total, counts }));
    renameSync(`${file}.tmp`, file);
  };
  process.on('SIGWINCH', flush);
  process.once('exit', flush);
}
