import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DiagnoseRow } from './diagnose';
import { type LoadResult } from './load';

/** #18's targets against the floor: reads keep 70% of its throughput with a p99 under 2×. */
export const READ_TARGET: Target = { throughputRatio: 0.7, p99Ratio: 2 };
/** A request writes four tables in one statement against the floor's one row: half its rate. */
export const WRITE_TARGET: Target = { throughputRatio: 0.5 };

export interface Target {
  throughputRatio: number;
  /** Absent: no bound on the p99. */
  p99Ratio?: number;
}

export interface ScenarioResult {
  key: string;
  title: string;
  /** The floor scenario this one is compared with (Airlock scenarios only). */
  floor?: string;
  /** What it must reach against its floor; absent for a row shown for reference only. */
  target?: Target;
  result: LoadResult;
  /** Worker backlog (outbox + unsealed audit + unfinished promotions) when the run ended. */
  backlog?: number;
  /** How long the worker then took to drain it (within a bound), and what was left. */
  drain?: { seconds: number; left: number };
}

export interface RunInfo {
  date: string;
  revision: string;
  cpus: string;
  memory: string;
  node: string;
  postgres: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  rows: number;
  seedSeconds: number;
  totalSeconds?: number;
}

export interface Comparison {
  row: ScenarioResult;
  floor: ScenarioResult;
  throughputRatio: number;
  p99Ratio: number;
  clean: boolean;
  /** False for a row shown for reference: it has no target of its own. */
  targeted: boolean;
  met: boolean;
}

/** The comparisons that have a target. */
export const targeted = (cmp: Comparison[]): Comparison[] => cmp.filter((c) => c.targeted);

const clean = (r: LoadResult): boolean => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0;

export function compare(rows: ScenarioResult[]): Comparison[] {
  const out: Comparison[] = [];
  for (const row of rows) {
    const floor = row.floor ? rows.find((r) => r.key === row.floor) : undefined;
    if (!floor) continue;
    const throughputRatio = row.result.rps / floor.result.rps;
    const p99Ratio = row.result.p99 / floor.result.p99;
    const ok = clean(row.result) && clean(floor.result);
    out.push({
      row,
      floor,
      throughputRatio,
      p99Ratio,
      clean: ok,
      targeted: row.target !== undefined,
      met:
        ok &&
        row.target !== undefined &&
        throughputRatio >= row.target.throughputRatio &&
        (row.target.p99Ratio === undefined || p99Ratio < row.target.p99Ratio),
    });
  }
  return out;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (n: number): string => `${Math.round(n * 100)}%`;
const failures = (r: LoadResult): string => {
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad === 0) return '0';
  const codes = Object.entries(r.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${n}×${c}`);
  if (r.errors) codes.push(`${r.errors} errors`);
  if (r.timeouts) codes.push(`${r.timeouts} timeouts`);
  return codes.join(', ');
};

/** CPU time the serving process (API or floor) spent per request, in ms: what bounds one process. */
export const serverCpuMs = (r: ScenarioResult): number =>
  ((r.result.cpu[r.floor ? 'api' : 'floor'] ?? 0) * 1000) / Math.max(1, r.result.rps);

const CPU_ORDER = [
  'api',
  'worker',
  'floor',
  'postgres for api',
  'postgres for worker',
  'postgres for floor',
  'postgres',
  'redis',
  'loadgen',
  'other',
];

function cpuCell(r: LoadResult): string {
  const parts = CPU_ORDER.filter((k) => (r.cpu[k] ?? 0) >= 0.005).map((k) => `${k} ${fmt(r.cpu[k], 2)}`);
  return `${parts.join(' · ')} (machine ${fmt(r.cpu.machine ?? 0, 2)})`;
}

/** The plain-text table for the console. */
export function consoleTable(rows: ScenarioResult[]): string {
  const cmp = compare(rows);
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'failed',
    'CPU ms/req',
    'vs floor req/s',
    'vs floor p99',
    'target',
  ];
  const body = rows.map((r) => {
    const c = cmp.find((x) => x.row === r);
    return [
      r.title,
      fmt(r.result.rps),
      fmt(r.result.p50, 1),
      fmt(r.result.p99, 1),
      failures(r.result),
      fmt(serverCpuMs(r), 2),
      c ? pct(c.throughputRatio) : '',
      c ? `${fmt(c.p99Ratio, 2)}×` : '',
      c ? (!c.targeted ? 'reference' : c.met ? 'met' : 'MISSED') : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const cpu = rows.map((r) => `  ${r.title.padEnd(widths[0])}  ${cpuCell(r.result)}`);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    'cores used during each measured run:',
    ...cpu,
  ].join('\n');
}

export function markdownSection(info: RunInfo, rows: ScenarioResult[], diagnosis?: DiagnoseRow[]): string {
  const cmp = compare(rows);
  const airlock = rows.filter((r) => r.floor);
  const goals = targeted(cmp);
  const allMet = goals.length > 0 && goals.every((c) => c.met);
  const lines: string[] = [];
  lines.push('## API throughput');
  lines.push('');
  lines.push(
    `Measured by \`npm run bench\` (bench/run.ts) on ${info.date}, at ${info.revision}: ${info.cpus}, ${info.memory}, ` +
      `Node ${info.node}, ${info.postgres}. ${info.connections} connections, ${info.warmupSeconds} s warm-up ` +
      `then ${info.seconds} s measured per scenario, never two loads at once, over ${fmt(info.rows)} seeded ` +
      `promotions (seeded in ${fmt(info.seedSeconds)} s)` +
      `${info.totalSeconds ? `; the whole run took ${fmt(info.totalSeconds)} s` : ''}.`,
  );
  lines.push('');
  const otherLoad = rows.reduce((n, r) => n + (r.result.cpu.other ?? 0), 0) / Math.max(1, rows.length);
  if (otherLoad >= 0.1) {
    lines.push(
      `The machine was shared: processes outside the benchmark used ${fmt(otherLoad, 2)} of its ` +
        `${info.cpus.split(' ')[0]} cores on average during the measurements (\`other\` below), so absolute ` +
        'figures are lower than on a quiet machine. The reads alternate with their floor in slices, so a ' +
        'comparison sees the same conditions; the writes run back to back and are more exposed to it.',
    );
    lines.push('');
  }
  lines.push(
    `Targets (#18): every read route at least ${pct(READ_TARGET.throughputRatio)} of its floor's throughput ` +
      `with a p99 under ${READ_TARGET.p99Ratio}× the floor's; \`POST /v1/promotions\`, with and without ` +
      `\`Idempotency-Key\`, at least ${pct(WRITE_TARGET.throughputRatio)} of the one-row insert's. ` +
      `**${allMet ? 'All met.' : `${goals.filter((c) => !c.met).length} of ${goals.length} missed.`}**`,
  );
  lines.push('');
  lines.push(
    '| scenario | req/s | p50 ms | p99 ms | failed | server CPU ms/req | req/s vs floor | p99 vs floor | target |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const c = cmp.find((x) => x.row === r);
    lines.push(
      `| ${r.title} | ${fmt(r.result.rps)} | ${fmt(r.result.p50, 1)} | ${fmt(r.result.p99, 1)} | ${failures(r.result)} | ` +
        `${fmt(serverCpuMs(r), 2)} | ${c ? pct(c.throughputRatio) : ''} | ${c ? `${fmt(c.p99Ratio, 2)}×` : ''} | ` +
        `${c ? (!c.targeted ? 'reference' : c.met ? 'met' : c.clean ? '**missed**' : '**failed requests**') : ''} |`,
    );
  }
  lines.push('');
  lines.push(
    'Cores used by each process during the measured part of each scenario (2.00 = the whole machine):',
  );
  lines.push('');
  lines.push('| scenario | cores used |');
  lines.push('| --- | --- |');
  for (const r of rows) lines.push(`| ${r.title} | ${cpuCell(r.result)} |`);
  lines.push('');
  const backlog = airlock.filter((r) => (r.backlog ?? 0) > 0);
  if (backlog.length) {
    const drained = (r: ScenarioResult): string =>
      r.drain
        ? r.drain.left > 0
          ? `, ${fmt(r.drain.left)} left after ${fmt(r.drain.seconds)} s`
          : `, drained in ${fmt(r.drain.seconds)} s`
        : '';
    lines.push(
      'Worker backlog when a write scenario ended (outbox rows + unsealed audit events + promotions not ' +
        `yet past the check stage): ${backlog.map((r) => `${r.title}: ${fmt(r.backlog ?? 0)}${drained(r)}`).join('; ')}. ` +
        'The worker takes in promotions more slowly than the API accepts them; the bench waits (up to 20 s) ' +
        'for it before the next scenario.',
    );
    lines.push('');
  }
  if (diagnosis?.length) {
    lines.push(
      'Where the time goes: the repository calls behind the routes, timed in the bench process against ' +
        "the seeded database (10 concurrent callers, one pool of 10, worker stopped), beside the floor's " +
        'statement:',
    );
    lines.push('');
    lines.push('| call | calls/s | CPU ms/call | mean ms |');
    lines.push('| --- | ---: | ---: | ---: |');
    for (const d of diagnosis) {
      lines.push(
        `| ${d.what} | ${fmt(d.callsPerSecond)} | ${fmt(d.cpuMsPerCall, 3)} | ${fmt(d.meanMs, 2)} |`,
      );
    }
    lines.push('');
  }
  lines.push('How it is measured:');
  lines.push('');
  lines.push(
    '- Airlock runs as it is deployed: the built API and worker processes (AirlockStack), ' +
      '`DATABASE_POOL_SIZE=10`, real bearer tokens from the development issuers, with `LOG_LEVEL=warn`: ' +
      'at `info` the API writes one JSON log line per request, which costs throughput and is not what ' +
      'this compares. The worker runs at `info` (one line per job), because AirlockStack learns that it is ' +
      'ready from its `worker started` line.',
  );
  lines.push(
    '- The floor (bench/floor-server.ts) is a bare NestJS app on the same Fastify adapter, the same ' +
      "TypeORM DataSource options and pool size, and the API's ValidationPipe, doing one statement per " +
      'request: `POST /floor/insert` (validated body, one INSERT into `bench_floor`), ' +
      '`GET /floor/select/:id` (one select by primary key on `promotion`), `GET /floor/page` ' +
      '(`SELECT * FROM promotion WHERE seq < $1 ORDER BY seq DESC LIMIT 51`). It runs beside Airlock, ' +
      'against the same database, in the same run.',
  );
  lines.push(
    "- `POST /v1/promotions` is sent with a person's token (a requester binding for `carol`; CI tokens " +
      'are single-use because of jti replay protection), a distinct digest per request and, in the second ' +
      'variant, a distinct `Idempotency-Key` per request. The worker processes the new promotions ' +
      '(outbox relay, check stage, audit sealing) while the load runs, on the same two cores. The row ' +
      '"worker stopped" (a reference, no target) sends the same requests with the worker stopped for ' +
      'the measurement (started again afterwards): what the intake costs on its own.',
  );
  lines.push(
    '- `GET /v1/promotions/:id` reads random seeded promotions that have six history rows, one check ' +
      'and one approval. List pages use `limit=50`: the newest page, and a page at a random cursor ' +
      'anywhere in the table (the floor page gets the same random `seq`).',
  );
  lines.push(
    '- Each read route and its floor take turns in ' +
      `${info.rounds} slices of ${fmt(info.seconds / info.rounds, 1)} s, so both see the same conditions; ` +
      "the writes run one after another (floor first), so that the worker catching up on Airlock's " +
      "promotions never runs during the floor's measurement. Throughput is responses per measured " +
      'second; p50/p99 are over every response.',
  );
  lines.push(
    '- The load generator (autocannon) runs in the bench process on the same machine and takes its ' +
      'share of the two cores (`loadgen`), as does Postgres: `postgres for api`, `for worker` and ' +
      '`for floor` are the backends serving each process (told apart by their `application_name`), ' +
      "`postgres` the server's own processes (WAL writer, checkpointer) and the bench's. `other` is CPU used by processes outside " +
      "the benchmark (on a shared machine, other people's test runs): it slows both sides of a " +
      'comparison, and the figures of a run with much of it are pessimistic. `server CPU ms/req` (CPU ' +
      'time of the API or floor process per response) depends least on that.',
  );
  return lines.join('\n');
}

const START = '<!-- bench:api:start -->';
const END = '<!-- bench:api:end -->';

/**
 * Replaces this bench's section of the file (between its markers), leaving the rest alone, and
 * formats the file with the repository's Prettier settings (so `format:check` stays green).
 */
export async function writeSection(file: string, section: string): Promise<void> {
  const block = `${START}\n\n${section}\n\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const s = text.indexOf(START);
  const e = text.indexOf(END);
  if (s >= 0 && e > s) {
    text = text.slice(0, s) + block + text.slice(e + END.length);
  } else {
    text = `${text.replace(/\s*$/, '')}\n\n${block}\n`;
  }
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  text = await prettier.format(text, { ...options, filepath: file });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
