import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';

export interface Target {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Called for every request; returns its path and body. */
  next: () => { path: string; body?: string; headers?: Record<string, string> };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Cores used during the measured part, by process group (plus loadgen, other, machine). */
  cpu: Record<string, number>;
}

/**
 * Processes whose CPU time is accounted per scenario: a name and a predicate over a process's
 * pid, comm and command line (read from /proc). Processes are matched by the first that claims
 * them; the machine's busy time not claimed by any (nor by this process) is `other`.
 */
export type CpuTargets = Array<{
  name: string;
  match: (p: { pid: number; comm: string; cmdline: string }) => boolean;
}>;

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

interface CpuSnapshot {
  /** Ticks per pid, with the target it belongs to. */
  pids: Map<number, { target: string; ticks: number }>;
  machineBusy: number;
  own: number;
}

function readStat(pid: string): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // gone meanwhile
  }
}

function snapshot(targets: CpuTargets, known: Map<number, string | null>): CpuSnapshot {
  const pids = new Map<number, { target: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = readStat(entry);
    if (!stat) continue;
    let target = known.get(pid);
    if (target === undefined) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      target = targets.find((t) => t.match({ pid, comm: stat.comm, cmdline }))?.name ?? null;
      known.set(pid, target);
    }
    if (target) pids.set(pid, { target, ticks: stat.ticks });
  }
  const cpuLine = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpuLine;
  const own = process.cpuUsage();
  return {
    pids,
    machineBusy: (user + nice + system + irq + softirq + (steal ?? 0)) / TICKS_PER_SECOND,
    own: (own.user + own.system) / 1e6,
  };
}

function usage(before: CpuSnapshot, after: CpuSnapshot, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  let claimed = 0;
  for (const [pid, a] of after.pids) {
    const delta = (a.ticks - (before.pids.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND;
    out[a.target] = (out[a.target] ?? 0) + delta / seconds;
    claimed += delta;
  }
  const own = after.own - before.own;
  out.loadgen = own / seconds;
  out.other = Math.max(0, after.machineBusy - before.machineBusy - claimed - own) / seconds;
  out.machine = (after.machineBusy - before.machineBusy) / seconds;
  return out;
}

/** Cores the whole machine used over `windowMs` (from /proc/stat). */
export async function machineLoad(windowMs = 500): Promise<number> {
  const busy = (): number => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
  };
  const b0 = busy();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  return (busy() - b0) / TICKS_PER_SECOND / ((Date.now() - t0) / 1000);
}

type Instance = Promise<autocannon.Result> & {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};

function fire(spec: Target, connections: number, seconds: number): Instance {
  const next = spec.next;
  return autocannon({
    url: spec.url,
    connections,
    duration: seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => {
          const n = next();
          return {
            ...req,
            path: n.path,
            body: n.body,
            headers: n.headers ? { ...req.headers, ...n.headers } : req.headers,
          };
        },
      },
    ],
  }) as unknown as Instance;
}

/** What one target's measured slices add up to. */
class Tally {
  readonly latencies: number[] = [];
  readonly statusCodes: Record<string, number> = {};
  errors = 0;
  timeouts = 0;
  seconds = 0;
  readonly coreSeconds: Record<string, number> = {};

  result(): LoadResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const at = (q: number): number =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.coreSeconds)) cpu[k] = v / this.seconds;
    return {
      rps: sorted.length / this.seconds,
      p50: at(0.5),
      p99: at(0.99),
      requests: sorted.length,
      non2xx: Object.entries(this.statusCodes)
        .filter(([c]) => !c.startsWith('2'))
        .reduce((n, [, v]) => n + v, 0),
      errors: this.errors,
      timeouts: this.timeouts,
      statusCodes: this.statusCodes,
      cpu,
    };
  }
}

export interface LoadOptions {
  connections: number;
  warmupSeconds: number;
  /** Measured seconds per target, split into `rounds` slices. */
  seconds: number;
  rounds: number;
  /** Pause between slices of different targets. */
  gapMs?: number;
  /** Runs after the warm-up, before the first measured slice (connections are open by then). */
  beforeMeasuring?: () => Promise<void>;
}

/**
 * Loads the targets one at a time: each gets a warm-up (discarded), then they take turns in
 * `rounds` slices, so that a pair sees the same conditions on a machine that is not quiet.
 * Latency percentiles are over every response of a target's slices; throughput is responses per
 * measured second; CPU time is sampled around each slice.
 */
export async function runLoad(
  targets: Target[],
  o: LoadOptions,
  cpuTargets: CpuTargets,
): Promise<LoadResult[]> {
  for (const t of targets) if (o.warmupSeconds > 0) await fire(t, o.connections, o.warmupSeconds);
  await o.beforeMeasuring?.();
  const tallies = targets.map(() => new Tally());
  const known = new Map<number, string | null>();
  const slice = o.seconds / o.rounds;
  for (let round = 0; round < o.rounds; round++) {
    for (const [i, t] of targets.entries()) {
      // Requests the previous slice left in flight finish before this one starts (when they would
      // otherwise be served, unmeasured, inside it).
      if (targets.length > 1) await new Promise((r) => setTimeout(r, o.gapMs ?? 750));
      const tally = tallies[i];
      const before = snapshot(cpuTargets, known);
      const startedAt = process.hrtime.bigint();
      const run = fire(t, o.connections, slice);
      run.on('response', (_client, status, _bytes, ms) => {
        tally.latencies.push(ms);
        tally.statusCodes[status] = (tally.statusCodes[status] ?? 0) + 1;
      });
      const r = await run;
      const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const cpu = usage(before, snapshot(cpuTargets, known), elapsed);
      for (const [k, v] of Object.entries(cpu))
        tally.coreSeconds[k] = (tally.coreSeconds[k] ?? 0) + v * elapsed;
      tally.seconds += elapsed;
      tally.errors += r.errors;
      tally.timeouts += r.timeouts;
    }
  }
  return tallies.map((t) => t.result());
}
