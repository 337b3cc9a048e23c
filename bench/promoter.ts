// `node dist/bench/promoter.js`: Airlock's copy (the promoter's copyManifest) beside `skopeo copy`
// between the same two registries with token auth, in the same run: a 5 × 50 MiB random-layer image
// and a 1 GiB one (4 × 256 MiB), cold (target empty) and warm (every blob already there).
//
// - The development issuer (built dist/apps/dev-oidc, client `airlock-promoter`) signs registry
//   tokens; two Debian `docker-registry` (distribution 2.8) instances trust it (`auth.token`,
//   service `airlock-registry`).
// - Images are written as OCI layouts by streaming random bytes (bench/lib-random-image.ts) and
//   pushed into the source with skopeo.
// - Airlock's copy runs in a child process of its own (bench/lib-copy-worker.ts, the worker's
//   wiring: RegistryTokens → SourceRegistries → copyManifest), so its peak RSS is its own; it gets
//   its tokens from the issuer during the copy, as the worker does. skopeo gets tokens fetched
//   beforehand (`--src-registry-token`, `--dest-registry-token`). Both run under `/usr/bin/time`.
// - Mount (#18): then the same image into a second repository of the same target registry; Airlock
//   mounts from the first (CopyOptions.mountFrom), skopeo from its blob-info cache.
// - Cold: each tool copies into a target registry started empty for that copy, so nothing can be
//   mounted or found (skopeo's blob-info cache remembers where it pushed blobs, and would mount them
//   from an earlier repository on the same registry). Warm: the same copy again into the same
//   registry and repository. Each repetition runs one pair cold then one pair warm; which tool goes
//   first alternates.
//
// Settings (optional): PROMOTER_BENCH_REPS=3, PROMOTER_BENCH_CASES=small,large,
// PROMOTER_BENCH_DEADLINE_SECONDS=450, BENCH_DOC=docs/benchmarks.md|none,
// PROMOTER_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (for the Airlock copy process)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pushImage } from '../test/support/oci-images';
import { startRegistry, type RegistryHandle } from '../test/support/registry';
import type { CopyJob, CopyReport } from './lib-copy-worker';
import { writeRandomLayout, type LayoutImage } from './lib-random-image';
import { fmt, machineInfo, median, writeMarkedSection } from './lib-report';
import { tokenRegistrySetup } from './lib-token-registries';

const env = process.env;
const REPS = Math.max(1, Number(env.PROMOTER_BENCH_REPS ?? 3));
const DEADLINE_MS = Number(env.PROMOTER_BENCH_DEADLINE_SECONDS ?? 450) * 1000;
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const ONLY = (env.PROMOTER_BENCH_CASES ?? 'small,large').split(',');
const NODE_ARGS = (env.PROMOTER_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const SOURCE_REPO = 'bench/app';
const TARGET_REPO = 'bench/prod-app';
const SECOND_TARGET_REPO = 'bench/prod-other';
const WARMUP_REPO = 'bench/warmup';
const MiB = 1024 * 1024;
const CHILD_TIMEOUT_MS = 180_000;
const MEMORY_TARGET = 150 * 1e6;

interface Case {
  key: string;
  title: string;
  layers: number;
  layerBytes: number;
}

const CASES: Case[] = [
  { key: 'small', title: '5 × 50 MiB', layers: 5, layerBytes: 50 * MiB },
  { key: 'large', title: '1 GiB (4 × 256 MiB)', layers: 4, layerBytes: 256 * MiB },
];

type Tool = 'airlock' | 'skopeo';
/**
 * mount: after the cold and warm copies, the same image into a second repository of the same
 * target registry (a repository sharing its base with one promoted before): Airlock mounts from
 * the first (CopyOptions.mountFrom, as the promoter does), skopeo from its blob-info cache.
 */
type Phase = 'cold' | 'warm' | 'mount';

interface Measurement {
  tool: Tool;
  phase: Phase;
  rep: number;
  /** Wall time of the copy: Airlock's from making its clients to copyManifest resolving, skopeo's process. */
  wallMs: number;
  /** Wall time of the whole process (Node start and module loading included for Airlock). */
  processMs: number;
  /** Peak RSS (bytes), from /usr/bin/time. */
  maxRss: number;
  cpuSeconds: number;
  airlock?: CopyReport;
}

interface CaseResult {
  case: Case;
  /** One more cold Airlock copy, in a process that has loaded the worker's whole module graph. */
  workerGraph?: Measurement;
  image?: LayoutImage;
  skipped?: string;
  layoutSeconds?: number;
  pushSeconds?: number;
  measurements: Measurement[];
}

interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  maxRss: number;
  cpuSeconds: number;
}

/** Runs a command under `/usr/bin/time`, which reports its peak RSS and CPU time. */
async function timed(command: string, args: string[], dir: string): Promise<Timed> {
  const timeFile = join(dir, `time-${process.hrtime.bigint()}.txt`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const code = await new Promise<number | null>((done) => child.once('close', done));
  clearTimeout(timer);
  const ms = performance.now() - t0;
  const lines = (await readFile(timeFile, 'utf8')).trim().split('\n');
  await rm(timeFile, { force: true });
  const [kb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
  return { code, stdout, stderr, ms, maxRss: kb * 1024, cpuSeconds: user + sys };
}

async function main(): Promise<void> {
  const started = Date.now();
  const info = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-promoter-'));
  const stops: Array<() => Promise<void>> = [];
  const results: CaseResult[] = [];
  const loads: number[] = [loadavg()[0]];
  try {
    const { auth, profile, secretsDir, token } = await tokenRegistrySetup(dir, stops);
    const source = await startRegistry({ auth });
    stops.push(() => source.stop());
    // A small image each Airlock copy process promotes first, untimed (see CopyJob.warmup).
    const warmup = await pushImage(source.host, WARMUP_REPO, 'v1', {
      layers: 2,
      layerSize: 64 * 1024,
      auth: { bearerToken: await token(`repository:${WARMUP_REPO}:pull,push`) },
    });

    const airlock = async (
      target: RegistryHandle,
      image: LayoutImage,
      phase: Phase,
      rep: number,
      workerGraph = false,
    ) => {
      const job: CopyJob = {
        profile,
        secretsDir,
        source: { host: source.host, repository: SOURCE_REPO },
        target: { host: target.host, repository: phase === 'mount' ? SECOND_TARGET_REPO : TARGET_REPO },
        mountFrom: phase === 'mount' ? [TARGET_REPO] : undefined,
        digest: image.digest,
        workerGraph,
        warmup: { sourceRepository: WARMUP_REPO, targetRepository: WARMUP_REPO, digest: warmup.digest },
      };
      const r = await timed(
        process.execPath,
        [...NODE_ARGS, resolve(__dirname, 'lib-copy-worker.js'), JSON.stringify(job)],
        dir,
      );
      if (r.code !== 0) throw new Error(`the Airlock copy failed (${r.code}): ${r.stderr}`);
      const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as CopyReport;
      const m: Measurement = {
        tool: 'airlock',
        phase,
        rep,
        wallMs: report.copyMs,
        processMs: r.ms,
        maxRss: r.maxRss,
        cpuSeconds: r.cpuSeconds,
        airlock: report,
      };
      return m;
    };

    const skopeo = async (
      target: RegistryHandle,
      image: LayoutImage,
      phase: Phase,
      rep: number,
      tokens: { source: string; target: string },
    ) => {
      const r = await timed(
        'skopeo',
        [
          'copy',
          '--quiet',
          '--preserve-digests',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          '--src-registry-token',
          tokens.source,
          '--dest-registry-token',
          tokens.target,
          `docker://${source.host}/${SOURCE_REPO}@${image.digest}`,
          `docker://${target.host}/${phase === 'mount' ? SECOND_TARGET_REPO : TARGET_REPO}@${image.digest}`,
        ],
        dir,
      );
      if (r.code !== 0) throw new Error(`skopeo copy failed (${r.code}): ${r.stderr}`);
      const m: Measurement = {
        tool: 'skopeo',
        phase,
        rep,
        wallMs: r.ms,
        processMs: r.ms,
        maxRss: r.maxRss,
        cpuSeconds: r.cpuSeconds,
      };
      return m;
    };

    /** The target holds the image under its digest (read with a fresh token). */
    const landed = async (target: RegistryHandle, image: LayoutImage): Promise<void> => {
      const t = await token(`repository:${TARGET_REPO}:pull`);
      const res = await fetch(`${target.url}/v2/${TARGET_REPO}/manifests/${image.digest}`, {
        method: 'HEAD',
        headers: {
          authorization: `Bearer ${t}`,
          accept: 'application/vnd.oci.image.manifest.v1+json',
        },
      });
      if (res.status !== 200) throw new Error(`${image.digest} is not in ${target.host}: ${res.status}`);
    };

    for (const c of CASES.filter((x) => ONLY.includes(x.key))) {
      const result: CaseResult = { case: c, measurements: [] };
      results.push(result);
      const bytes = c.layers * c.layerBytes;
      const fs = await statfs(tmpdir());
      const free = fs.bavail * fs.bsize;
      // The layout, the source, two target registries at a time, upload sessions: about 5 copies.
      const needed = 5 * bytes + 1024 * MiB;
      if (free < needed) {
        result.skipped = `needs about ${fmt(needed / 2 ** 30, 1)} GiB free in ${tmpdir()}, has ${fmt(free / 2 ** 30, 1)} GiB`;
        console.log(`${c.title}: skipped, ${result.skipped}`);
        continue;
      }
      if (Date.now() - started > DEADLINE_MS / 2 && c.key === 'large') {
        result.skipped = 'the run was past half its time bound before this case began';
        console.log(`${c.title}: skipped, ${result.skipped}`);
        continue;
      }

      // --- The image, into the source.
      const layoutDir = await mkdtemp(join(tmpdir(), 'airlock-bench-layout-'));
      try {
        let t = performance.now();
        const image = await writeRandomLayout(layoutDir, 'v1', c.layers, c.layerBytes);
        result.layoutSeconds = (performance.now() - t) / 1000;
        t = performance.now();
        const pushToken = await token(`repository:${SOURCE_REPO}:pull,push`);
        const push = await timed(
          'skopeo',
          [
            'copy',
            '--quiet',
            '--preserve-digests',
            '--dest-tls-verify=false',
            '--dest-registry-token',
            pushToken,
            `oci:${layoutDir}:v1`,
            `docker://${source.host}/${SOURCE_REPO}:${c.key}`,
          ],
          dir,
        );
        if (push.code !== 0) throw new Error(`pushing the ${c.title} image failed: ${push.stderr}`);
        result.pushSeconds = (performance.now() - t) / 1000;
        result.image = image;
        console.log(
          `${c.title}: image ${image.digest.slice(0, 19)}… (${fmt(image.bytes / MiB, 1)} MiB) written in ` +
            `${fmt(result.layoutSeconds, 1)} s, pushed to the source in ${fmt(result.pushSeconds, 1)} s`,
        );
      } finally {
        await rm(layoutDir, { recursive: true, force: true });
      }
      const image = result.image;

      // --- Pairs.
      for (let rep = 0; rep < REPS; rep++) {
        if (Date.now() - started > DEADLINE_MS) {
          console.log(`${c.title}: stopping after ${rep} repetitions (time bound)`);
          break;
        }
        const tokens = {
          source: await token(`repository:${SOURCE_REPO}:pull`),
          target: await token(`repository:${TARGET_REPO}:pull,push`),
          // The second repository, and pull on the first to mount from.
          second: await token(`repository:${SECOND_TARGET_REPO}:pull,push repository:${TARGET_REPO}:pull`),
        };
        const [airlockTarget, skopeoTarget] = await Promise.all([
          startRegistry({ auth }),
          startRegistry({ auth }),
        ]);
        try {
          const order: Tool[] = rep % 2 === 0 ? ['airlock', 'skopeo'] : ['skopeo', 'airlock'];
          for (const phase of ['cold', 'warm', 'mount'] as Phase[]) {
            for (const tool of order) {
              const m =
                tool === 'airlock'
                  ? await airlock(airlockTarget, image, phase, rep)
                  : await skopeo(skopeoTarget, image, phase, rep, {
                      source: tokens.source,
                      target: phase === 'mount' ? tokens.second : tokens.target,
                    });
              result.measurements.push(m);
              const extra = m.airlock
                ? ` (process ${fmt(m.processMs)} ms, ${m.airlock.tokenGrants} token grants ${fmt(m.airlock.tokenMs)} ms, ` +
                  `copied ${m.airlock.stats.blobsCopied}, mounted ${m.airlock.stats.blobsMounted}, present ${m.airlock.stats.blobsPresent}; RSS before ` +
                  `${fmt(m.airlock.baselineRss / 1e6, 1)} MB, sampled peaks: heap ${fmt(m.airlock.sampled.heapUsed / 1e6, 1)} ` +
                  `MB, array buffers ${fmt(m.airlock.sampled.arrayBuffers / 1e6, 1)} MB)`
                : '';
              const copyCpu = m.airlock ? ` (copy ${fmt(m.airlock.copyCpuMs / 1000, 2)} s)` : '';
              console.log(
                `  rep ${rep + 1} ${phase} ${tool.padEnd(7)} ${fmt(m.wallMs).padStart(6)} ms  ` +
                  `max RSS ${fmt(m.maxRss / 1e6, 1)} MB  CPU ${fmt(m.cpuSeconds, 2)} s${copyCpu}${extra}`,
              );
            }
          }
          await landed(airlockTarget, image);
          await landed(skopeoTarget, image);
        } finally {
          await Promise.all([airlockTarget.stop(), skopeoTarget.stop()]);
        }
        loads.push(loadavg()[0]);
      }

      // --- The same cold copy in a process holding the worker's module graph: the worker's RSS.
      if (Date.now() - started < DEADLINE_MS) {
        const target = await startRegistry({ auth });
        try {
          const m = await airlock(target, image, 'cold', -1, true);
          result.workerGraph = m;
          console.log(
            `  with the worker's module graph loaded: cold ${fmt(m.wallMs)} ms, max RSS ${fmt(m.maxRss / 1e6, 1)} MB ` +
              `(before the copy ${fmt((m.airlock?.baselineRss ?? 0) / 1e6, 1)} MB)`,
          );
        } finally {
          await target.stop();
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  const totalSeconds = (Date.now() - started) / 1000;
  const { text, markdown } = summarize(results);
  console.log('');
  console.log(text);
  console.log(`total ${fmt(totalSeconds)} s; load average ${loads.map((l) => fmt(l, 1)).join(' → ')}`);
  if (DOC !== 'none') {
    await writeMarkedSection(DOC, 'promoter', section(info, results, markdown, totalSeconds, loads));
    console.log(`wrote the promoter section of ${DOC}`);
  }
}

interface Row {
  title: string;
  phase: Phase;
  reps: number;
  airlockMs: number;
  skopeoMs: number;
  /** Median over the repetitions of Airlock / skopeo within each pair. */
  ratio: number;
  ratios: number[];
  airlockProcessRatio: number;
  /** Median ratio with Airlock's time spent waiting for token grants taken out. */
  noTokenRatio: number;
  airlockRss: number;
  skopeoRss: number;
  airlockBaseline: number;
  /** Airlock: CPU of the copy itself (in-process); skopeo: the process. */
  airlockCpu: number;
  /** Airlock: CPU of the whole process (Node start-up and module loading included). */
  airlockProcessCpu: number;
  skopeoCpu: number;
  tokenMs: number;
  tokenGrants: number;
}

function rows(results: CaseResult[]): Row[] {
  const out: Row[] = [];
  for (const r of results) {
    for (const phase of ['cold', 'warm', 'mount'] as Phase[]) {
      const ms = r.measurements.filter((m) => m.phase === phase);
      const a = ms.filter((m) => m.tool === 'airlock');
      const s = ms.filter((m) => m.tool === 'skopeo');
      const pairs = a
        .map((am) => ({ am, sm: s.find((x) => x.rep === am.rep) }))
        .filter((p): p is { am: Measurement; sm: Measurement } => p.sm !== undefined);
      if (pairs.length === 0) continue;
      const ratios = pairs.map((p) => p.am.wallMs / p.sm.wallMs);
      out.push({
        title: r.case.title,
        phase,
        reps: pairs.length,
        airlockMs: median(a.map((m) => m.wallMs)),
        skopeoMs: median(s.map((m) => m.wallMs)),
        ratio: median(ratios),
        ratios,
        airlockProcessRatio: median(pairs.map((p) => p.am.processMs / p.sm.wallMs)),
        noTokenRatio: median(pairs.map((p) => (p.am.wallMs - (p.am.airlock?.tokenMs ?? 0)) / p.sm.wallMs)),
        airlockRss: Math.max(...a.map((m) => m.maxRss)),
        skopeoRss: Math.max(...s.map((m) => m.maxRss)),
        airlockBaseline: median(a.map((m) => m.airlock?.baselineRss ?? 0)),
        airlockCpu: median(a.map((m) => (m.airlock?.copyCpuMs ?? 0) / 1000)),
        airlockProcessCpu: median(a.map((m) => m.cpuSeconds)),
        skopeoCpu: median(s.map((m) => m.cpuSeconds)),
        tokenMs: median(a.map((m) => m.airlock?.tokenMs ?? 0)),
        tokenGrants: median(a.map((m) => m.airlock?.tokenGrants ?? 0)),
      });
    }
  }
  return out;
}

const mib = (bytes: number): string => fmt(bytes / 1e6, 1);
const mb = (bytes: number): string => fmt(bytes / 1e6, 0);

function summarize(results: CaseResult[]): { text: string; markdown: string[] } {
  const table = rows(results);
  const text: string[] = [];
  const markdown: string[] = [];
  text.push(
    'image                phase  Airlock ms  skopeo ms  ratio (per pair)          no tokens  Airlock peak RSS  skopeo peak RSS',
  );
  markdown.push(
    '| image | phase | Airlock wall ms (median) | skopeo wall ms (median) | ratio Airlock / skopeo (median; per pair) | ratio without token grants | ratio with Node start-up | Airlock peak RSS (before the copy) | skopeo peak RSS | CPU s Airlock copy (whole process) / skopeo (median) | targets |',
  );
  markdown.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of table) {
    const timeMet = r.ratio <= 1;
    const memMet = r.airlockRss < MEMORY_TARGET;
    const per = r.ratios.map((x) => fmt(x, 2)).join(', ');
    text.push(
      `${r.title.padEnd(20)} ${r.phase.padEnd(5)}  ${fmt(r.airlockMs).padStart(10)}  ${fmt(r.skopeoMs).padStart(9)}  ` +
        `${`${fmt(r.ratio, 2)} (${per})`.padEnd(24)}  ${fmt(r.noTokenRatio, 2).padStart(9)}  ` +
        `${`${mib(r.airlockRss)} MB`.padStart(16)}  ${`${mib(r.skopeoRss)} MB`.padStart(15)}`,
    );
    markdown.push(
      `| ${r.title} | ${r.phase} | ${fmt(r.airlockMs)} | ${fmt(r.skopeoMs)} | **${fmt(r.ratio, 2)}** (${per}) | ` +
        `${fmt(r.noTokenRatio, 2)} | ${fmt(r.airlockProcessRatio, 2)} | ${mb(r.airlockRss)} MB (${mb(r.airlockBaseline)} MB) | ` +
        `${mb(r.skopeoRss)} MB | ${fmt(r.airlockCpu, 2)} (${fmt(r.airlockProcessCpu, 2)}) / ${fmt(r.skopeoCpu, 2)} | ` +
        `time ${timeMet ? 'met' : '**missed**'}, memory ${memMet ? 'met' : '**missed**'} |`,
    );
  }
  for (const r of results.filter((x) => x.skipped)) {
    text.push(`${r.case.title}: not run (${r.skipped})`);
    markdown.push(`| ${r.case.title} | — | not run: ${r.skipped} | | | | | | | | |`);
  }
  const cold = table.filter((r) => r.phase === 'cold');
  if (cold.length > 0) {
    markdown.push('');
    markdown.push(
      'What the copy process held during cold copies (process.memoryUsage() sampled every 20 ms, highest ' +
        'sample over the repetitions): ' +
        cold
          .map((r) => {
            const c = results.find((x) => x.case.title === r.title);
            const a = (c?.measurements ?? []).filter((m) => m.tool === 'airlock' && m.phase === 'cold');
            const buffers = Math.max(...a.map((m) => m.airlock?.sampled.arrayBuffers ?? 0));
            const heap = Math.max(...a.map((m) => m.airlock?.sampled.heapUsed ?? 0));
            return `${r.title}: array buffers ${mb(buffers)} MB, JS heap ${mb(heap)} MB`;
          })
          .join('; ') +
        '. Airlock made a median of ' +
        cold
          .map((r) => `${fmt(r.tokenGrants)} token grants (${fmt(r.tokenMs)} ms) for ${r.title}`)
          .join(', ') +
        '.',
    );
  }
  const graph = results.filter((r) => r.workerGraph);
  if (graph.length > 0) {
    const line = graph
      .map(
        (r) =>
          `${r.case.title} cold: peak RSS ${mb(r.workerGraph?.maxRss ?? 0)} MB (${mb(r.workerGraph?.airlock?.baselineRss ?? 0)} MB before the copy), ` +
          `${fmt(r.workerGraph?.wallMs ?? 0)} ms`,
      )
      .join('; ');
    text.push(`in a process holding the worker's module graph: ${line}`);
    markdown.push('');
    markdown.push(
      `The same cold copy once more in a process that first loads the worker's whole module graph ` +
        `(apps/worker/worker.module, not started: no database or queue connections), i.e. what the worker ` +
        `process itself would show: ${line}.`,
    );
  }
  return { text: text.join('\n'), markdown };
}

function section(
  info: ReturnType<typeof machineInfo>,
  results: CaseResult[],
  table: string[],
  totalSeconds: number,
  loads: number[],
): string {
  const lines: string[] = [];
  const table2 = rows(results);
  const timeMet = table2.length > 0 && table2.every((r) => r.ratio <= 1);
  const graphs = results.flatMap((r) => (r.workerGraph ? [r.workerGraph.maxRss] : []));
  const memMet =
    table2.length > 0 &&
    table2.every((r) => r.airlockRss < MEMORY_TARGET) &&
    graphs.every((rss) => rss < MEMORY_TARGET);
  const peak = Math.max(...table2.map((r) => r.airlockRss));
  lines.push('## Promoter copy');
  lines.push('');
  lines.push(
    `Measured by \`node dist/bench/promoter.js\` (bench/promoter.ts) on ${info.date}, at ${info.revision}: ` +
      `${info.cpus}, ${info.memory}, Node ${info.node}; Debian \`docker-registry\` (distribution 2.8) and ` +
      `\`skopeo\` 1.9. The whole run took ${fmt(totalSeconds)} s.`,
  );
  lines.push('');
  lines.push(
    'Targets: wall time no worse than `skopeo copy` between the same registries (ratio ≤ 1.0), and the ' +
      `copying process's peak memory below 150 MB even for the 1 GiB image. **Time: ${timeMet ? 'met' : 'missed'}. ` +
      `Memory: ${memMet ? 'met' : 'missed'}** (copy process up to ${mb(peak)} MB` +
      `${graphs.length ? `, with the worker's module graph up to ${mb(Math.max(...graphs))} MB` : ''}; MB = 10⁶ bytes).`,
  );
  lines.push('');
  lines.push(...table);
  lines.push('');
  const images = results
    .filter((r) => r.image)
    .map(
      (r) =>
        `${r.case.title}: ${fmt((r.image?.bytes ?? 0) / MiB, 1)} MiB of blobs, written in ${fmt(r.layoutSeconds ?? 0, 1)} s ` +
        `and pushed into the source in ${fmt(r.pushSeconds ?? 0, 1)} s`,
    );
  lines.push(`Images: ${images.join('; ')}.`);
  lines.push('');
  lines.push('How it is measured:');
  lines.push('');
  lines.push(
    '- Two token-auth registries on loopback trust the development issuer (`--registry-cert-out`); the ' +
      'images have random layers (gzip level 0, so every byte moves), pushed into the source with skopeo.',
  );
  lines.push(
    '- Airlock: bench/lib-copy-worker.ts in a process of its own, wired as the worker is ' +
      '(`RegistryTokens` → `SourceRegistries` → `copyManifest`, default options: 4 blobs at a time). Its wall ' +
      'time runs from making the clients to the copy being done and includes the three client-credentials ' +
      'grants it makes at the issuer (source pull, target pull, target pull+push). Before it, untimed, the ' +
      'process promotes a small other image (two 64 KiB layers) into another repository, as a running worker ' +
      'has promoted before: issuer discovery is cached and the code is compiled. "ratio with Node start-up" ' +
      'uses the whole process instead. ' +
      'Peak RSS is of that process, which loads the worker’s registry code (Nest, openid-client) but not ' +
      'its database or queue; the figure in brackets is its RSS before the copy.',
  );
  lines.push(
    '- skopeo: `skopeo copy --preserve-digests docker://source/repo@digest docker://target/repo@digest` ' +
      'with `--src-registry-token`/`--dest-registry-token` fetched from the same issuer beforehand (not timed), ' +
      'TLS verification off (plain http on loopback). Wall time is the whole process.',
  );
  lines.push(
    '- Cold: each copy goes to a target registry started empty for it (a fresh repository on a registry ' +
      'already holding the blobs would let skopeo mount them: its blob-info cache remembers where it pushed). Warm: the same copy ' +
      'again, every blob present. Mount: then the same image into a second repository of that target registry ' +
      '(a repository sharing its base with one promoted before: here every blob is shared): Airlock is given the ' +
      'first repository to mount from (`CopyOptions.mountFrom`, as the promoter passes the target repository it ' +
      'promoted to last), skopeo mounts from its blob-info cache, its token covering pull on the first repository. ' +
      'Pairs run back to back (cold pair, warm pair, mount pair), the tool that goes first ' +
      'alternating; the ratio is taken within each pair, and the median over the repetitions is shown. ' +
      'Peak RSS and process CPU come from `/usr/bin/time`; the CPU of the Airlock copy itself from ' +
      '`process.cpuUsage()` around it.',
  );
  lines.push(
    `- The machine was shared with other work: load average ${loads.map((l) => fmt(l, 1)).join(' → ')} ` +
      'over the run (2 cores). Both tools see the same conditions within a pair, but single figures are noisy.',
  );
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
