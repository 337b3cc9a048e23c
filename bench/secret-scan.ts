// `node dist/bench/secret-scan.js`: the secret scan's throughput and peak memory on a ~250 MB
// (uncompressed) image in a real registry, beside how fast that registry streams the same layers.
//
// - A Debian `docker-registry` (distribution 2.8) on loopback; the image is pushed with skopeo
//   (test/support: startRegistry, pushImage). Its gzip layers hold real files of this machine:
//   shared libraries (binary), Python's standard library and site-packages, this repository's
//   node_modules (two layers) and an application layer (this repository's sources) with a few
//   secrets planted, made at run time (test/support/layer-fixtures), so the repository holds none.
// - Registry streaming: a plain HTTP GET of every layer blob in turn, bytes counted and dropped.
// - Each measurement runs in a child process (this file with `--child`) standing for the worker.
//   The scan is wired as the secrets check is (SECRET_SCAN_PROCESS=child, the default): that child
//   hands the layers to a scan process it forks (RegistryProcessPool, libs/oci/registry-child.ts,
//   with the worker's flags), which fetches each with a RegistryClient's `getBlob` (size and digest
//   verified by the client) and scans it; `scanLayers` there combines and caches. The peak RSS is
//   the scan process's (its VmHWM, over its life: the warm-up and the timed scan). The child first
//   scans the small application layer once, untimed, as a running worker has scanned before.
//   Besides the scan: reading alone (gunzip + tar, every file handed to a no-op: the floor under
//   the scan) and, once, the reference scan (every rule on every file: the scan before the
//   pre-filter), whose findings must equal the scan's.
// - The native floor: `curl | gzip -dc | tar -t` of each layer in turn (the same blobs from the same
//   registry, in the same run, alternating with the scan runs). Target (#18): the scan at least 70%
//   of its throughput, the scanning process's peak RSS under 200 MB.
// - The cache (#18): image A (the layers above) scanned cold, then image B, A's four base layers
//   and a new application layer, in one child with a layer cache: B's time / A's time at most the
//   new layer's share of the bytes + 10%.
// - Three runs of each but the reference; medians shown.
//
// Settings (optional): SECRET_BENCH_RUNS=3, SECRET_BENCH_REFERENCE_RUNS=1 (0 skips it),
// BENCH_DOC=docs/benchmarks.md|none, SECRET_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
// (for the child processes), SECRET_BENCH_BASELINE_DIST=/tmp/x/dist (another build's dist folder, with
// node_modules reachable from it: its reading-alone and scan children run beside this build's in every
// run, printed to the console only, to compare peak RSS in the same run)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { get as httpGet, Agent } from 'node:http';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Readable } from 'node:stream';
import { type ProcessUsage } from '../libs/oci/process-protocol';
import { RegistryClient } from '../libs/oci/registry-client';
import { CHILD_NODE_FLAGS, RegistryProcessPool } from '../libs/oci/registry-process';
import {
  DEFAULT_LAYER_LIMITS,
  type LayerProblem,
  type LayerScan,
  type LayerScanCache,
  layerScanFromWire,
  type LayerScanReader,
  readLayer,
  scanLayers,
  type ScanLayer,
  type SecretScanStats,
} from '../libs/scan';
import { fakeSecrets, secretFiles } from '../test/support/layer-fixtures';
import { pushImage, tarHeader } from '../test/support/oci-images';
import { startRegistry } from '../test/support/registry';
import { fmt, machineInfo, median, writeMarkedSection } from './lib-report';

const env = process.env;
const RUNS = Math.max(1, Number(env.SECRET_BENCH_RUNS ?? 3));
const REFERENCE_RUNS = Math.max(0, Number(env.SECRET_BENCH_REFERENCE_RUNS ?? 1));
/** Scale of the image (1: about 500 MB of files). */
const SCALE = Math.max(0.05, Number(env.SECRET_BENCH_SCALE ?? 1));
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const NODE_ARGS = (env.SECRET_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const BASELINE_CHILD = env.SECRET_BENCH_BASELINE_DIST
  ? join(env.SECRET_BENCH_BASELINE_DIST, 'bench', 'secret-scan.js')
  : undefined;
const CHILD_FLAG = '--child';
const REPO = 'bench/scan-me';
const MB = 1e6;
const CHILD_TIMEOUT_MS = 600_000;
const TARGET =
  'new layers scanned at ≥ 70% of what `gzip -dc | tar -t` reaches on the same layers in the same run, using both cores, with peak RSS of the scanning process under 200 MB; image B (A’s base, a new app layer) scanned in ≤ the new layer’s share of A’s time + 10%';
const FLOOR_SHARE = 0.7;
const RSS_LIMIT = 200 * MB;

// ---------------------------------------------------------------------------------------------
// The image

interface LayerPlan {
  title: string;
  /** Folders read in order until the layer has `budget` bytes of files. */
  roots: string[];
  /** Where the files go in the image. */
  into: string;
  budget: number;
  maxFileBytes: number;
  include: (name: string) => boolean;
}

const REPOSITORY_ROOT = join(__dirname, '..', '..');
const TEXT_FILE_MAX = 2 * 1024 * 1024;

const LAYER_PLANS: LayerPlan[] = [
  {
    title: 'shared libraries (binary)',
    roots: ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'],
    into: 'usr/lib/x86_64-linux-gnu',
    budget: 120 * MB * SCALE,
    maxFileBytes: 8 * 1024 * 1024,
    include: (name) => /\.so(\.\d+)*$|\.a$/.test(name),
  },
  {
    title: 'Python (standard library, site-packages)',
    roots: ['/usr/lib/python3', ...pythonRoots(), join(REPOSITORY_ROOT, 'node_modules')],
    into: 'usr/lib/python3',
    budget: 60 * MB * SCALE,
    maxFileBytes: TEXT_FILE_MAX,
    include: () => true,
  },
  ...[1, 2].map((part) => ({
    title: `node_modules (${part}/2)`,
    roots: [join(REPOSITORY_ROOT, 'node_modules')],
    into: 'srv/app/node_modules',
    budget: 150 * MB * SCALE,
    maxFileBytes: 8 * 1024 * 1024,
    include: () => true,
  })),
  {
    title: 'application (sources and planted secrets)',
    roots: ['apps', 'libs', 'bench', 'test', 'docs'].map((d) => join(REPOSITORY_ROOT, d)),
    into: 'srv/app',
    budget: 6 * MB * SCALE,
    maxFileBytes: TEXT_FILE_MAX,
    include: () => true,
  },
];

function pythonRoots(): string[] {
  try {
    return readdirSync('/usr/lib')
      .filter((d) => /^python3\.\d+$/.test(d))
      .map((d) => join('/usr/lib', d));
  } catch {
    return [];
  }
}

/** Regular files under `root`, in a stable order. */
function* walk(root: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(root, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile()) yield path;
  }
}

/** Whether the test image writer can name this path (ustar's 100 + 155 bytes). */
function fitsTarHeader(name: string): boolean {
  try {
    tarHeader(name, 0);
    return true;
  } catch {
    return false;
  }
}

/** The files of each planned layer; a file goes into one layer only. */
function collectLayers(): { title: string; files: Record<string, Buffer> }[] {
  const used = new Set<string>();
  return LAYER_PLANS.map((plan) => {
    const files: Record<string, Buffer> = {};
    let total = 0;
    for (const root of plan.roots) {
      for (const path of walk(root)) {
        if (total >= plan.budget) break;
        if (used.has(path) || !plan.include(path)) continue;
        const size = statSync(path).size;
        if (size === 0 || size > plan.maxFileBytes || total + size > plan.budget * 1.05) continue;
        const name = `${plan.into}/${relative(root, path)}`;
        if (files[name] || !fitsTarHeader(name)) continue;
        used.add(path);
        files[name] = readFileSync(path);
        total += size;
      }
    }
    return { title: plan.title, files };
  });
}

// ---------------------------------------------------------------------------------------------
// The child: one scan (or read) of the image, reported as one JSON line

type Mode = 'scan' | 'sequential' | 'reference' | 'read' | 'cache';

interface ChildJob {
  mode: Mode;
  host: string;
  repository: string;
  layers: { digest: string; mediaType: string; size: number }[];
  /** Index of a small layer read once first, untimed. */
  warmup: number;
  /** `cache`: image B's layers, scanned after A's with the cache A's scan filled. */
  layersB?: { digest: string; mediaType: string; size: number }[];
}

interface ChildReport {
  ms: number;
  cpuMs: number;
  /** RSS once everything was loaded and warmed up, before the timed run (bytes). */
  baselineRss: number;
  /**
   * Peak RSS of the process (bytes): /proc's VmHWM. Not getrusage's maxRSS, which on Linux keeps
   * the parent's peak across fork and exec (here the parent holds the whole image).
   */
  maxRss: number;
  compressedBytes: number;
  uncompressedBytes: number;
  /** Per layer, in order: wall time, and (reading) uncompressed bytes. */
  layers: { ms: number; uncompressedBytes?: number }[];
  stats?: SecretScanStats;
  /** `cache`: image B's scan after A's. */
  b?: { ms: number; stats: SecretScanStats; findings: number };
  findings: { rule: string; path: string; line?: number; layer: string; fingerprint: string }[];
  problems: LayerProblem[];
}

function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function child(job: ChildJob): Promise<void> {
  const client = new RegistryClient({
    host: job.host,
    insecure: true,
    // Every rule on every file reads a node_modules layer's blob at about 1 MB/s on a loaded machine,
    // under the client's default floor for a flowing body: the reference is not what a check runs.
    minBytesPerSecond: job.mode === 'reference' ? 1 : undefined,
  });
  const times: number[] = [];
  const scanLayer = (d: ChildJob['layers'][number]): ScanLayer => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    // As the secrets check opens them.
    open: () => {
      times.push(performance.now());
      return client.getBlob(job.repository, d.digest, { maxBytes: d.size, size: d.size });
    },
  });
  const read = async (d: ChildJob['layers'][number]) => {
    const source: Readable = await scanLayer(d).open();
    return readLayer(source, {
      digest: d.digest,
      mediaType: d.mediaType,
      limits: DEFAULT_LAYER_LIMITS,
      verifyDigest: false,
      onFile: () => undefined,
    });
  };
  // The cache as the check uses it, in memory (results through JSON, as in the jsonb column).
  const stored = new Map<string, string>();
  const cache: LayerScanCache = {
    get: async (digests) =>
      new Map(
        digests.filter((d) => stored.has(d)).map((d) => [d, JSON.parse(stored.get(d) ?? '') as LayerScan]),
      ),
    put: async (digest, result) => void stored.set(digest, JSON.stringify(result)),
  };
  // `sequential`: the scan before #18, one layer after another.
  const concurrency = job.mode === 'sequential' || job.mode === 'reference' ? 1 : 2;
  // Reading alone and the reference (every rule on every file) run here: they are floors and a
  // check on the findings, not what a worker deploys.
  const pool =
    job.mode === 'reference' || job.mode === 'read'
      ? undefined
      : new RegistryProcessPool({ role: 'scan', execArgv: [...CHILD_NODE_FLAGS, ...NODE_ARGS] });
  const usages: ProcessUsage[] = [];
  const reader: LayerScanReader | undefined =
    pool &&
    (async (layers, onLayer) => {
      if (layers.length === 0) return;
      const account = await pool.scan(
        { registry: { host: job.host, insecure: true }, repository: job.repository },
        {
          layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size ?? 0 })),
          limits: {},
          concurrency,
        },
        (digest, result) => onLayer(digest, layerScanFromWire(result)),
      );
      usages.push(account.usage);
    });
  const scan = (layers: ChildJob['layers']) =>
    scanLayers(
      layers.map(scanLayer),
      {},
      {
        verifyDigest: false,
        prefilter: job.mode !== 'reference',
        cache: job.mode === 'cache' ? cache : undefined,
        concurrency,
        reader,
      },
    );

  if (job.mode === 'read') await read(job.layers[job.warmup]);
  else await scan([job.layers[job.warmup]]);
  times.length = 0;
  stored.clear();
  // In a scan process: its peak after the warm-up (its RSS now is not this process's to read).
  const baselineRss = pool ? (usages.at(-1)?.peakRss ?? 0) : process.memoryUsage().rss;
  const warmups = usages.length;

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report: Omit<ChildReport, 'ms' | 'cpuMs' | 'baselineRss' | 'maxRss'> = {
    compressedBytes: 0,
    uncompressedBytes: 0,
    layers: [],
    findings: [],
    problems: [],
  };
  if (job.mode === 'read') {
    for (const d of job.layers) {
      const t = performance.now();
      const r = await read(d);
      report.layers.push({ ms: performance.now() - t, uncompressedBytes: r.uncompressedBytes });
      report.compressedBytes += r.compressedBytes;
      report.uncompressedBytes += r.uncompressedBytes;
      report.problems.push(...r.problems);
    }
  } else {
    const result = await scan(job.layers);
    const end = performance.now();
    report.layers = times.map((t, i) => ({ ms: (times[i + 1] ?? end) - t }));
    report.compressedBytes = result.stats.compressedBytes;
    report.uncompressedBytes = result.stats.bytes;
    report.stats = result.stats;
    report.problems = result.problems;
    report.findings = result.findings.map(({ rule, path, line, layer, fingerprint }) => ({
      rule,
      path,
      line,
      layer,
      fingerprint,
    }));
  }
  const ms = performance.now() - t0;
  if (job.mode === 'cache' && job.layersB) {
    const tb = performance.now();
    const b = await scan(job.layersB);
    report.b = { ms: performance.now() - tb, stats: b.stats, findings: b.findings.length };
  }
  const cpu = process.cpuUsage(cpu0);
  client.close();
  pool?.close();
  // With a scan process, the CPU of both (this one stands for the worker, which combines and caches).
  const timed = usages.slice(warmups, job.mode === 'cache' && job.layersB ? -1 : undefined);
  const full: ChildReport = {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000 + timed.reduce((n, u) => n + u.cpuMs, 0),
    baselineRss,
    maxRss: pool ? Math.max(...usages.map((u) => u.peakRss)) : peakRssBytes(),
    ...report,
  };
  process.stdout.write(`${JSON.stringify(full)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The parent

async function runChild(job: ChildJob, script = __filename): Promise<ChildReport> {
  const proc = spawn(process.execPath, [...NODE_ARGS, script, CHILD_FLAG, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
  const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const code = await new Promise<number | null>((done) => proc.once('close', done));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the ${job.mode} child failed (${code}): ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as ChildReport;
}

/** Plain GETs of every blob in turn; bytes counted and dropped. */
async function streamBlobs(host: string, digests: string[]): Promise<{ ms: number; bytes: number }> {
  const agent = new Agent({ keepAlive: true });
  const t0 = performance.now();
  let bytes = 0;
  for (const digest of digests) {
    bytes += await new Promise<number>((resolve, reject) => {
      httpGet(`http://${host}/v2/${REPO}/blobs/${digest}`, { agent }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${digest}: ${res.statusCode}`));
          return;
        }
        let n = 0;
        res.on('data', (chunk: Buffer) => (n += chunk.length));
        res.once('end', () => resolve(n));
        res.once('error', reject);
      }).once('error', reject);
    });
  }
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, bytes };
}

/** The native floor: `curl | gzip -dc | tar -t` of each layer in turn; the whole wall time. */
async function nativeFloor(host: string, digests: string[]): Promise<{ ms: number; cpuMs: number }> {
  const t0 = performance.now();
  let cpuMs = 0;
  for (const digest of digests) {
    // /usr/bin/time: the CPU of the pipeline's three processes (user and system).
    const proc = spawn(
      '/usr/bin/time',
      [
        '-f',
        'cpu %U %S',
        'bash',
        '-c',
        `set -o pipefail; curl -sf "$1" | gzip -dc | tar -t > /dev/null`,
        'floor',
        `http://${host}/v2/${REPO}/blobs/${digest}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((done) => proc.once('close', done));
    if (code !== 0) throw new Error(`curl | gzip -dc | tar -t failed (${code}): ${stderr}`);
    const m = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
    if (m) cpuMs += (Number(m[1]) + Number(m[2])) * 1000;
  }
  return { ms: performance.now() - t0, cpuMs };
}

const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

/** "3 entropy/assignment, 2 privatekey/PrivateKey, …": findings outside the planted files, by rule. */
function otherFindings(findings: ChildReport['findings'], plantedPaths: ReadonlySet<string>): string {
  const counts = new Map<string, number>();
  for (const f of findings) if (!plantedPaths.has(f.path)) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([rule, n]) => `${n} ${rule}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
const key = (f: ChildReport['findings'][number]) =>
  `${f.layer} ${f.path}:${f.line ?? ''} ${f.rule} ${f.fingerprint}`;

interface Phase {
  title: string;
  reports: ChildReport[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const info = machineInfo();
  const loads: number[] = [loadavg()[0]];
  const registry = await startRegistry();
  try {
    // --- The image.
    const t = performance.now();
    const layers = collectLayers();
    const planted = secretFiles(fakeSecrets());
    const plantedPaths = new Set(planted.map((p) => `srv/app/${p.path}`));
    const app = layers[layers.length - 1];
    for (const p of planted) app.files[`srv/app/${p.path}`] = Buffer.from(p.content);
    const image = await pushImage(registry.host, REPO, 'v1', { files: layers.map((l) => l.files) });
    // Image B: the next release, A's four base layers and a changed application layer.
    const appB = { ...app.files, 'srv/app/RELEASE': Buffer.from(`release ${Date.now()}\n`) };
    const imageB = await pushImage(registry.host, REPO, 'v2', {
      files: [...layers.slice(0, -1).map((l) => l.files), appB],
    });
    const buildSeconds = (performance.now() - t) / 1000;
    const descriptors = image.manifest.layers as { digest: string; mediaType: string; size: number }[];
    const descriptorsB = imageB.manifest.layers as { digest: string; mediaType: string; size: number }[];
    const sharedBase = descriptorsB.slice(0, -1).every((d, i) => d.digest === descriptors[i].digest);
    if (!sharedBase || descriptorsB.at(-1)?.digest === descriptors.at(-1)?.digest)
      throw new Error('image B does not share exactly A’s base layers');
    const compressed = descriptors.reduce((n, d) => n + d.size, 0);
    const fileCounts = layers.map((l) => Object.keys(l.files).length);
    console.log(
      `image: ${layers.length} gzip layers, ${fmt(compressed / MB, 1)} MB compressed, ${fileCounts.reduce((a, b) => a + b)} files; ` +
        `built and pushed in ${fmt(buildSeconds, 1)} s`,
    );
    const job = (mode: Mode): ChildJob => ({
      mode,
      host: registry.host,
      repository: REPO,
      layers: descriptors,
      warmup: descriptors.length - 1,
      layersB: mode === 'cache' ? descriptorsB : undefined,
    });

    // --- Registry streaming.
    await streamBlobs(
      registry.host,
      descriptors.map((d) => d.digest),
    );
    const streams: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = await streamBlobs(
        registry.host,
        descriptors.map((d) => d.digest),
      );
      streams.push(s);
      console.log(`  registry GET run ${i + 1}: ${fmt(mbps(s.bytes, s.ms))} MB/s (${fmt(s.ms)} ms)`);
    }
    loads.push(loadavg()[0]);

    // --- The native floor, reading alone, the scan and the cache run, alternating so that changes in
    // load hit all of them; the reference last.
    const floors: { ms: number; cpuMs: number }[] = [];
    const phases: Record<Mode, Phase> = {
      cache: { title: 'image A cold, then image B with the cache', reports: [] },
      sequential: { title: 'secret scan, one layer after another (as before)', reports: [] },
      read: { title: 'reading alone (gunzip + tar, no scan)', reports: [] },
      scan: { title: 'secret scan', reports: [] },
      reference: {
        title: 'reference: every rule on every file (the scan before the pre-filter)',
        reports: [],
      },
    };
    const baselinePeaks: Record<'read' | 'scan', number[]> = { read: [], scan: [] };
    for (let i = 0; i < RUNS; i++) {
      const f = await nativeFloor(
        registry.host,
        descriptors.map((d) => d.digest),
      );
      floors.push(f);
      console.log(
        `  native floor run ${i + 1}: ${fmt(mbps(compressed, f.ms), 1)} MB/s compressed (${fmt(f.ms)} ms, CPU ${fmt(f.cpuMs)} ms)`,
      );
      for (const mode of ['read', 'scan', 'sequential', 'cache'] as Mode[]) {
        const r = await runChild(job(mode));
        phases[mode].reports.push(r);
        console.log(
          `  ${mode} run ${i + 1}: ${fmt(mbps(r.compressedBytes, r.ms), 1)} MB/s compressed, ` +
            `${fmt(mbps(r.uncompressedBytes, r.ms), 1)} MB/s uncompressed (${fmt(r.ms)} ms, CPU ${fmt(r.cpuMs)} ms), ` +
            `peak RSS ${fmt(r.maxRss / MB, 1)} MB (${fmt(r.baselineRss / MB, 1)} MB before)` +
            (r.b ? `; image B ${fmt(r.b.ms)} ms (${r.b.stats.cachedLayers} layers from the cache)` : ''),
        );
      }
      for (const mode of BASELINE_CHILD ? (['read', 'scan'] as const) : []) {
        const r = await runChild(job(mode), BASELINE_CHILD);
        baselinePeaks[mode].push(r.maxRss);
        console.log(
          `  baseline ${mode} run ${i + 1}: ${fmt(mbps(r.compressedBytes, r.ms), 1)} MB/s compressed (${fmt(r.ms)} ms), ` +
            `peak RSS ${fmt(r.maxRss / MB, 1)} MB (${fmt(r.baselineRss / MB, 1)} MB before)`,
        );
      }
      loads.push(loadavg()[0]);
    }
    for (let i = 0; i < REFERENCE_RUNS; i++) {
      const r = await runChild(job('reference'));
      phases.reference.reports.push(r);
      console.log(
        `  reference run ${i + 1}: ${fmt(mbps(r.compressedBytes, r.ms), 1)} MB/s compressed, ` +
          `${fmt(mbps(r.uncompressedBytes, r.ms), 1)} MB/s uncompressed (${fmt(r.ms)} ms)`,
      );
      loads.push(loadavg()[0]);
    }

    // --- What was found: every planted secret, and (reference) the same findings.
    const scans = phases.scan.reports;
    for (const r of [...scans, ...phases.reference.reports]) {
      if (r.problems.length > 0) throw new Error(`the scan reported problems: ${JSON.stringify(r.problems)}`);
      for (const p of planted)
        if (!r.findings.some((f) => f.rule === p.rule && f.path === `srv/app/${p.path}`))
          throw new Error(`the planted ${p.rule} in ${p.path} was not found`);
    }
    const scanKeys = scans[0].findings.map(key).sort();
    for (const r of [...scans.slice(1), ...phases.reference.reports]) {
      const keys = r.findings.map(key).sort();
      if (JSON.stringify(keys) !== JSON.stringify(scanKeys))
        throw new Error(`runs found different things:\n${scanKeys.join('\n')}\n---\n${keys.join('\n')}`);
    }

    // --- Figures.
    const registryMbps = median(streams.map((s) => mbps(s.bytes, s.ms)));
    const row = (p: Phase) => ({
      compressed: median(p.reports.map((r) => mbps(r.compressedBytes, r.ms))),
      uncompressed: median(p.reports.map((r) => mbps(r.uncompressedBytes, r.ms))),
      seconds: median(p.reports.map((r) => r.ms / 1000)),
      cpu: median(p.reports.map((r) => r.cpuMs / 1000)),
      rss: median(p.reports.map((r) => r.maxRss)),
      rssMax: Math.max(...p.reports.map((r) => r.maxRss)),
      baseline: median(p.reports.map((r) => r.baselineRss)),
      runs: p.reports.length,
    });
    const scan = row(phases.scan);
    const read = row(phases.read);
    const reference = phases.reference.reports.length > 0 ? row(phases.reference) : undefined;
    const floorMbps = median(floors.map((f) => mbps(compressed, f.ms)));
    const floorShare = scan.compressed / floorMbps;
    const throughputMet = floorShare >= FLOOR_SHARE;
    const rssMet = scan.rssMax < RSS_LIMIT;
    const cacheRuns = phases.cache.reports;
    const newLayerBytes = descriptorsB.at(-1)?.size ?? 0;
    const compressedB = descriptorsB.reduce((n, d) => n + d.size, 0);
    const newShare = newLayerBytes / compressedB;
    const abRatio = median(cacheRuns.map((r) => (r.b?.ms ?? Number.NaN) / r.ms));
    const abMet = abRatio <= newShare + 0.1;
    const cacheA = median(cacheRuns.map((r) => r.ms / 1000));
    const cacheB = median(cacheRuns.map((r) => (r.b?.ms ?? Number.NaN) / 1000));
    const cached = cacheRuns[0]?.b?.stats.cachedLayers ?? 0;
    const cacheRss = Math.max(...cacheRuns.map((r) => r.maxRss));
    const uncompressedByLayer = phases.read.reports[0].layers.map((l) => l.uncompressedBytes ?? 0);
    const perLayer = descriptors.map((d, i) => ({
      title: layers[i].title,
      files: fileCounts[i],
      compressed: d.size,
      uncompressed: uncompressedByLayer[i],
      read: median(phases.read.reports.map((r) => mbps(uncompressedByLayer[i], r.layers[i].ms))),
      reference: reference
        ? median(phases.reference.reports.map((r) => mbps(uncompressedByLayer[i], r.layers[i].ms)))
        : undefined,
    }));
    const totalUncompressed = uncompressedByLayer.reduce((a, b) => a + b, 0);
    const stats = scans[0].stats;
    const totalSeconds = (Date.now() - started) / 1000;
    const verdict = (met: boolean) => (met ? 'met' : '**missed**');

    console.log('');
    console.log(
      `native floor ${fmt(floorMbps, 1)} MB/s; the scan ${fmt(scan.compressed, 1)} MB/s compressed ` +
        `(${fmt(100 * floorShare)}% of the floor, target ≥ ${fmt(100 * FLOOR_SHARE)}%: ${throughputMet ? 'met' : 'missed'}), ` +
        `peak RSS ${fmt(scan.rssMax / MB, 1)} MB (target < 200: ${rssMet ? 'met' : 'missed'})`,
    );
    console.log(
      `image B after A: ${fmt(cacheB, 2)} s / ${fmt(cacheA, 2)} s = ${fmt(abRatio, 3)}; new layer's share ` +
        `${fmt(100 * newShare, 1)}% (+10%): ${abMet ? 'met' : 'missed'}; ${cached} layers from the cache`,
    );
    console.log(
      `registry streams ${fmt(registryMbps)} MB/s; one layer after another (as before) ` +
        `${fmt(row(phases.sequential).compressed, 1)} MB/s (${fmt((100 * row(phases.sequential).compressed) / floorMbps)}% of the floor)`,
    );
    for (const l of perLayer)
      console.log(
        `  ${l.title}: ${fmt(l.uncompressed / MB, 1)} MB, read ${fmt(l.read, 1)} MB/s` +
          (l.reference === undefined ? '' : `, reference ${fmt(l.reference, 1)} MB/s`),
      );
    console.log(`findings outside the planted files: ${otherFindings(scans[0].findings, plantedPaths)}`);
    const peaks = (rs: number[]) => rs.map((r) => fmt(r / MB, 1)).join(', ');
    console.log(
      `peak RSS MB, scan: ${peaks(scans.map((r) => r.maxRss))}; reading alone: ${peaks(phases.read.reports.map((r) => r.maxRss))}` +
        (BASELINE_CHILD
          ? `; baseline build scan: ${peaks(baselinePeaks.scan)}; reading alone: ${peaks(baselinePeaks.read)}`
          : ''),
    );
    console.log(`total ${fmt(totalSeconds)} s; load average ${loads.map((l) => fmt(l, 1)).join(' → ')}`);

    if (DOC === 'none') return;
    const lines: string[] = [];
    lines.push('## Secret scan');
    lines.push('');
    lines.push(
      `Measured by \`node dist/bench/secret-scan.js\` (bench/secret-scan.ts) on ${info.date}, at ${info.revision}: ` +
        `${info.cpus}, ${info.memory}, Node ${info.node}; Debian \`docker-registry\` (distribution 2.8) on loopback. ` +
        `The whole run took ${fmt(totalSeconds)} s.`,
    );
    lines.push('');
    lines.push(`Targets (#18): ${TARGET}.`);
    lines.push('');
    lines.push('| measure | value | target | |');
    lines.push('| --- | ---: | ---: | --- |');
    lines.push(
      `| scan throughput / native floor (curl, \`gzip -dc\`, \`tar -t\`), MB/s of blobs | ${fmt(scan.compressed, 1)} / ${fmt(floorMbps, 1)} = **${fmt(100 * floorShare)}%** | ≥ 70% | ${verdict(throughputMet)} |`,
    );
    lines.push(
      `| the same, one layer after another (the scan before #18) | ${fmt(row(phases.sequential).compressed, 1)} / ${fmt(floorMbps, 1)} = ${fmt((100 * row(phases.sequential).compressed) / floorMbps)}% | | |`,
    );
    lines.push(
      `| peak RSS of the scanning process (highest of ${scan.runs} runs) | **${fmt(scan.rssMax / MB)} MB** | < 200 MB | ${verdict(rssMet)} |`,
    );
    lines.push(
      `| image B's scan / image A's (cache filled by A; median of ${cacheRuns.length}) | ${fmt(cacheB, 2)} s / ${fmt(cacheA, 2)} s = **${fmt(abRatio, 3)}** | ≤ ${fmt(newShare + 0.1, 3)} (new layer ${fmt(100 * newShare, 1)}% of B's bytes + 10%) | ${verdict(abMet)} |`,
    );
    lines.push(
      `| layers of B read from the registry / from the cache | ${descriptorsB.length - cached} / ${cached} | | |`,
    );
    lines.push('');
    lines.push(
      `The image: ${descriptors.length} gzip layers (zlib level 6), ${fmt(compressed / MB, 1)} MB of blobs, ` +
        `${fmt(totalUncompressed / MB, 1)} MB of tar, ${fileCounts.reduce((a, b) => a + b)} files; ` +
        `${stats ? `${stats.scannedFiles} files scanned, ${stats.skippedBinary} skipped as binary, ${stats.skippedLarge} as larger than 2 MiB` : ''}. ` +
        `Every run found the ${planted.length} planted secrets; all findings outside the planted files, by rule: ` +
        `${otherFindings(scans[0].findings, plantedPaths)}` +
        `${reference ? '. The reference scan found exactly the same' : ''}. Image B: the same four base layers and an ` +
        `application layer with one more file (${fmt(newLayerBytes / MB, 2)} MB of ${fmt(compressedB / MB, 1)} MB).`,
    );
    lines.push('');
    lines.push(
      '| what | MB/s of blobs (compressed) | MB/s of tar (uncompressed) | wall s | CPU s | peak RSS (before the run, or after the warm-up) |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    lines.push(
      `| registry: plain GET of every blob | ${fmt(registryMbps)} | | ${fmt(median(streams.map((s) => s.ms / 1000)), 2)} | | |`,
    );
    lines.push(
      `| native floor: curl piped to \`gzip -dc\` piped to \`tar -t\`, layer after layer | **${fmt(floorMbps, 1)}** | ${fmt(mbps(totalUncompressed, median(floors.map((f) => f.ms))), 1)} | ${fmt(median(floors.map((f) => f.ms / 1000)), 2)} | ${fmt(median(floors.map((f) => f.cpuMs / 1000)), 2)} | |`,
    );
    const tableRow = (title: string, r: ReturnType<typeof row>, bold = false) =>
      `| ${title} | ${bold ? `**${fmt(r.compressed, 1)}**` : fmt(r.compressed, 1)} | ${fmt(r.uncompressed, 1)} | ` +
      `${fmt(r.seconds, 2)} | ${fmt(r.cpu, 2)} | ${fmt(r.rss / MB)} MB (${fmt(r.baseline / MB)} MB) |`;
    lines.push(tableRow(`${phases.scan.title} (two layers at a time)`, scan, true));
    const sequential = row(phases.sequential);
    lines.push(tableRow(phases.sequential.title, sequential));
    lines.push(tableRow(`${phases.read.title}, one layer at a time`, read));
    lines.push(
      `| image A cold with the cache, then B | | | ${fmt(cacheA, 2)} + ${fmt(cacheB, 2)} | | ${fmt(cacheRss / MB)} MB |`,
    );
    if (reference) lines.push(tableRow(`${phases.reference.title}, ${reference.runs} run(s)`, reference));
    lines.push('');
    lines.push('| layer | files | MB of blobs | MB of tar | reading alone MB/s of tar | reference MB/s |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const l of perLayer)
      lines.push(
        `| ${l.title} | ${fmt(l.files)} | ${fmt(l.compressed / MB, 1)} | ${fmt(l.uncompressed / MB, 1)} | ` +
          `${fmt(l.read, 1)} | ${l.reference === undefined ? '—' : fmt(l.reference, 1)} |`,
      );
    lines.push('');
    lines.push('How it is measured:');
    lines.push('');
    lines.push(
      '- The layers hold real files of the machine, in this order: shared libraries from ' +
        '/usr/lib/x86_64-linux-gnu, Python from /usr/lib/python3*, this repository’s node_modules split in two ' +
        'layers, and an application layer (the repository’s sources plus the planted secrets, made at run time ' +
        'by test/support/layer-fixtures). Built and pushed with test/support’s `pushImage` (skopeo).',
    );
    lines.push(
      '- Registry: plain `node:http` GETs of the layer blobs one after another (keep-alive), bytes counted and ' +
        `dropped; one warm-up pass, then ${RUNS} timed passes.`,
    );
    lines.push(
      '- Scan: a child process per run stands for the worker and is wired as the secrets check is ' +
        '(`SECRET_SCAN_PROCESS=child`, the default): `scanLayers(layers, {}, { verifyDigest: false })` with a ' +
        'reader that hands the layers to a scan process it forks (`RegistryProcessPool`, ' +
        '`libs/oci/registry-child.ts` with the worker’s flags `--max-semi-space-size=1 --expose-gc`), which ' +
        'fetches each with a `RegistryClient` (`getBlob` with the descriptor’s size) and scans it; the results ' +
        'come back over IPC to be cached and combined. One untimed scan of the application layer first; layers ' +
        'two at a time (the default of `SECRET_SCAN_LAYER_CONCURRENCY`). Wall time from the scan call to the ' +
        'result; CPU is both processes’ (zlib runs on libuv’s threads); peak RSS is the scan process’s VmHWM ' +
        'over its life (getrusage’s maxRSS would carry over the parent’s peak through fork and exec), in ' +
        'brackets its peak after the warm-up. Reading alone (in the child itself) is `readLayer` on each layer ' +
        'in turn with a no-op for each file: the decompression and tar parsing every scan pays; per-layer times ' +
        'run from one layer’s blob request to the next; the reference runs in the child too.',
    );
    lines.push(
      "- Native floor: `bash -c 'set -o pipefail; curl -sf <blob URL> | gzip -dc | tar -t > /dev/null'` for each layer in turn, " +
        'the same blobs from the same registry; gzip, tar and curl are three processes, so the floor uses both ' +
        'cores too; its CPU is the three processes’ (`/usr/bin/time`). Ratios are of wall times within the run.',
    );
    lines.push(
      '- Cache: one child scans image A with an empty layer cache (in memory, each result through JSON as in the ' +
        '`secret_scan_layer` jsonb column; the check uses Postgres), then image B; B’s time is from its first ' +
        'cache lookup to its result.',
    );
    lines.push(
      `- The machine was shared with other work: load average ${loads.map((l) => fmt(l, 1)).join(' → ')} ` +
        'over the run (2 cores), so single figures are noisy; the floor, reading-alone, scan and cache runs ' +
        'alternate, the reference runs last.',
    );
    await writeMarkedSection(DOC, 'secrets', lines.join('\n'));
    console.log(`wrote the secrets section of ${DOC}`);
  } finally {
    await registry.stop();
  }
}

if (process.argv[2] === CHILD_FLAG) {
  child(JSON.parse(process.argv[3] ?? '') as ChildJob).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
