// `node dist/bench/gate.js`: how long the gate's pure decision takes (libs/domain/promotion-gate.ts
// and freeze-windows.ts, croner underneath), the part of starting a copy that grows with the
// policy: an environment with 20 freeze windows (recurring ones in several time zones, one-off
// ranges, deny and allow) and a digest with 10 upstream promotions, judged at instants spread over
// a year (daylight-saving changes included). The gate runs once per promotion about to start and
// once per released wait; the API's freeze-window listing runs the same code.
//
// Settings (optional): GATE_BENCH_EVALUATIONS=5000
import { performance } from 'node:perf_hooks';
import {
  evaluateGate,
  type FreezeWindow,
  freezeAt,
  nextOccurrences,
  type UpstreamOccupancy,
} from '../libs/domain';
import { fmt, median, percentile } from './lib-report';

const EVALUATIONS = Number(process.env.GATE_BENCH_EVALUATIONS ?? 5000);
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'UTC'];
const YEAR = Date.parse('2026-01-01T00:00:00Z');

const windows: FreezeWindow[] = [
  ...Array.from({ length: 12 }, (_, i): FreezeWindow => ({
    name: `recurring-${i}`,
    kind: 'deny',
    cron: `${i * 5} ${(i * 2) % 24} * * ${i % 7}`,
    duration: `${1 + (i % 5)}h`,
    timezone: ZONES[i % ZONES.length],
  })),
  ...Array.from({ length: 6 }, (_, i): FreezeWindow => ({
    name: `one-off-${i}`,
    kind: 'deny',
    from: new Date(YEAR + i * 60 * 86400_000).toISOString(),
    until: new Date(YEAR + i * 60 * 86400_000 + 3 * 86400_000).toISOString(),
  })),
  { name: 'office', kind: 'allow', cron: '0 8 * * 1-5', duration: '10h', timezone: 'Europe/Berlin' },
  { name: 'weekend-batch', kind: 'allow', cron: '0 2 * * 6', duration: '4h', timezone: 'UTC' },
];
const occupancies: UpstreamOccupancy[] = Array.from({ length: 10 }, (_, i) => ({
  environment: i % 2 ? 'staging' : 'qa',
  promotionId: `u-${i}`,
  tag: `v${i}`,
  promotedAt: new Date(YEAR - (i + 1) * 3600_000),
  supersededAt: i < 8 ? new Date(YEAR - i * 3600_000) : null,
}));

function time(label: string, run: (at: Date) => unknown): void {
  const samples: number[] = [];
  for (let i = 0; i < EVALUATIONS; i++) {
    const at = new Date(YEAR + ((i * 7919) % 365) * 86400_000 + ((i * 104729) % 86400) * 1000);
    const t0 = performance.now();
    run(at);
    samples.push(performance.now() - t0);
  }
  console.log(
    `${label.padEnd(44)} median ${fmt(median(samples), 3)} ms   p99 ${fmt(percentile(samples, 99), 3)} ms   (${EVALUATIONS} instants)`,
  );
}

time('freezeAt (20 windows)', (at) => freezeAt(windows, at));
time('evaluateGate (chain, soak, 20 windows)', (now) =>
  evaluateGate({
    now,
    upstreams: ['staging', 'qa'],
    occupancies,
    soak: { duration: '24h' },
    windows,
    breakGlass: false,
  }),
);
time('freeze-windows listing (3 occurrences × 20)', (at) => windows.map((w) => nextOccurrences(w, at, 3)));
