// Preloaded into a worker by the benches (`node --require dist/bench/lib-query-counter.js`): counts
// the statements the process sends to Postgres, i.e. its round trips (node-postgres sends one
// query, and waits for its answer, at a time per connection; a multi-statement simple query is one
// round trip). The count goes to BENCH_QUERY_COUNT_FILE, rewritten at most every 100 ms when it
// changed; the bench reads it before and after what it measures. Bench-only: nothing in the
// product loads it.
import { writeFileSync } from 'node:fs';
import { Client } from 'pg';

const file = process.env.BENCH_QUERY_COUNT_FILE;
if (file) {
  let count = 0;
  let written = -1;
  const original = Client.prototype.query;
  Client.prototype.query = function counted(this: Client, ...args: unknown[]): unknown {
    count++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof Client.prototype.query;
  const flush = (): void => {
    if (count === written) return;
    written = count;
    writeFileSync(file, String(count));
  };
  flush();
  setInterval(flush, 100).unref();
  process.once('exit', flush);
}
