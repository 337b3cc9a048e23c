// `node dist/bench/promoter.js`: Airlock's copy (the promoter's, as the worker runs it) beside
// `skopeo copy` between the same two registries with token auth, in the same run: a 5 × 50 MiB
// random-layer image and a 1 GiB one (4 × 256 MiB), cold (target empty), warm (every blob already
// there) and mount (a second repository of the target registry).
//
// - The development issuer (built dist/apps/dev-oidc, client `airlock-promoter`) signs registry
//   tokens; two Debian `docker-registry` (distribution 2.8) instances trust it (`auth.token`,
//   service `airlock-registry`).
// - Images are written as OCI layouts by streaming random bytes (bench/lib-random-image.ts) and
//   pushed into the source with skopeo.
// - Airlock's copy is asked for by a process standing for the worker (bench/lib-copy-worker.ts: the
//   worker's module graph loaded, RegistryTokens → SourceRegistries → PromoterCopier), which runs it
//   in its copy process (PROMOTER_COPY_PROCESS=child, the default) as the worker does; it gets its
//   tokens from the issuer during the copy. skopeo gets tokens fetched beforehand
//   (`--src-registry-token`, `--dest-registry-token`) and runs under `/usr/bin/time`. The copy
//   process reports its own peak RSS (VmHWM), the worker process its RSS during the copy.
// - Mount (#18): then the same image into a second repository of the same target registry; Airlock
//   mounts from the first (CopyOptions.mountFrom), skopeo from its blob-info cache.
// - Cold: each tool copies into a target registry started empty for that copy, so nothing can be
//   mounted or found (skopeo's blob-info cache remembers where it pushed blobs, and would mount them
//   from an earlier repository on the same registry). Warm: the same copy again into the same
//   registry and repository. Each repetition runs one pair cold then one pair warm; which tool goes
//   first alternates. After the pairs, one cold copy with PROMOTER_COPY_PROCESS=inline (in the
//   worker process itself), for its memory.
//
// Settings (optional): PROMOTER_BENCH_REPS=3, PROMOTER_BENCH_CASES=small,large,
// PROMOTER_BENCH_DEADLINE_SECONDS=600, BENCH_DOC=docs/benchmarks.md|none,
// PROMOTER_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (for the worker process)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pushImage } from '../test/support/oci-images';
import { startRegistry, type RegistryHandle } from '../test/support/registry';
import type { CopyJob, CopyMode, CopyReport } from './lib-copy-worker';
import { writeRandomLayout, type LayoutImage } from './lib-random-image';
import { fmt, machineInfo, median, writeMarkedSection } from './lib-report';
import { tokenRegistrySetup } from './lib-token-registries';

const env = process.env;
const REPS = Math.max(1, Number(env.PROMOTER_BENCH_REPS ?? 3));
const DEADLINE_MS = Number(env.PROMOTER_BENCH_DEADLINE_SECONDS ?? 600) * 1000;
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
  /** Wall time of the copy: Airlock's the promoter's copy call, skopeo's its process. */
  wallMs: number;
  /**
   * Peak RSS (bytes) of the process that copied: Airlock's copy process (its VmHWM), or with
   * PROMOTER_COPY_PROCESS=inline the worker's; skopeo's from /usr/bin/time.
   */
  copyRss: number;
  /** CPU seconds: Airlock's copy process and worker during the copy; skopeo's process. */
  cpuSeconds: number;
  airlock?: CopyReport;
}

interface CaseResult {
  case: Case;
  /** One more cold copy with PROMOTER_COPY_PROCESS=inline: in the worker process itself. */
  inline?: Measurement;
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

/** One line about an Airlock copy for the console. */
function describeAirlock(m: Measurement): string {
  const a = m.airlock;
  if (a === undefined) return '';
  const copier =
    a.child !== undefined
      ? `copy process ${mb1(a.child.peakRss)} MB (array buffers ${mb1(a.child.arrayBuffersPeak)} MB, heap ` +
        `${mb1(a.child.heapUsedPeak)} MB, CPU ${fmt(a.child.cpuMs / 1000, 2)} s${a.child.forked ? ', forked' : ''})`
      : `inline`;
  return (
    ` ${a.tokenGrants} token grants ${fmt(a.tokenMs)} ms; copied ${a.stats.blobsCopied}, mounted ` +
    `${a.stats.blobsMounted}, present ${a.stats.blobsPresent}; ${copier}; worker RSS ${mb1(a.worker.baselineRss)} → ` +
    `${mb1(a.worker.sampledRss)} MB (array buffers ${mb1(a.worker.arrayBuffers)} MB), CPU ${fmt(a.workerCpuMs / 1000, 2)} s`
  );
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
    // A small image each Airlock worker process promotes first, untimed (see CopyJob.warmup).
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
      mode: CopyMode = 'child',
    ) => {
      const job: CopyJob = {
        profile,
        secretsDir,
        source: { host: source.host, repository: SOURCE_REPO },
        target: { host: target.host, repository: phase === 'mount' ? SECOND_TARGET_REPO : TARGET_REPO },
        mountFrom: phase === 'mount' ? [TARGET_REPO] : undefined,
        digest: image.digest,
        mode,
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
        copyRss: report.child?.peakRss ?? report.worker.peakRss,
        cpuSeconds: (report.workerCpuMs + (report.child?.cpuMs ?? 0)) / 1000,
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
        copyRss: r.maxRss,
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
              console.log(
                `  rep ${rep + 1} ${phase} ${tool.padEnd(7)} ${fmt(m.wallMs).padStart(6)} ms  ` +
                  `peak RSS ${mb1(m.copyRss)} MB  CPU ${fmt(m.cpuSeconds, 2)} s${describeAirlock(m)}`,
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

      // --- The same cold copy in the worker process itself (PROMOTER_COPY_PROCESS=inline).
      if (Date.now() - started < DEADLINE_MS) {
        const target = await startRegistry({ auth });
        try {
          const m = await airlock(target, image, 'cold', -1, 'inline');
          result.inline = m;
          console.log(`  inline (in the worker): cold ${fmt(m.wallMs)} ms${describeAirlock(m)}`);
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
  /** Median ratio with Airlock's time spent waiting for token grants taken out. */
  noTokenRatio: number;
  /** Highest peak RSS of Airlock's copy process over the repetitions. */
  airlockRss: number;
  skopeoRss: number;
  /** The worker process: median RSS before the copy, highest sampled during it. */
  workerBaseline: number;
  workerPeak: number;
  /** CPU seconds (medians): Airlock's copy process, its worker, skopeo. */
  childCpu: number;
  workerCpu: number;
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
      const report = (m: Measurement): CopyReport => m.airlock as CopyReport;
      out.push({
        title: r.case.title,
        phase,
        reps: pairs.length,
        airlockMs: median(a.map((m) => m.wallMs)),
        skopeoMs: median(s.map((m) => m.wallMs)),
        ratio: median(ratios),
        ratios,
        noTokenRatio: median(pairs.map((p) => (p.am.wallMs - report(p.am).tokenMs) / p.sm.wallMs)),
        airlockRss: Math.max(...a.map((m) => m.copyRss)),
        skopeoRss: Math.max(...s.map((m) => m.copyRss)),
        workerBaseline: median(a.map((m) => report(m).worker.baselineRss)),
        workerPeak: Math.max(...a.map((m) => report(m).worker.sampledRss)),
        childCpu: median(a.map((m) => (report(m).child?.cpuMs ?? 0) / 1000)),
        workerCpu: median(a.map((m) => report(m).workerCpuMs / 1000)),
        skopeoCpu: median(s.map((m) => m.cpuSeconds)),
        tokenMs: median(a.map((m) => report(m).tokenMs)),
        tokenGrants: median(a.map((m) => report(m).tokenGrants)),
      });
    }
  }
  return out;
}

const mb1 = (bytes: number): string => fmt(bytes / 1e6, 1);
const mb = (bytes: number): string => fmt(bytes / 1e6, 0);

function summarize(results: CaseResult[]): { text: string; markdown: string[] } {
  const table = rows(results);
  const text: string[] = [];
  const markdown: string[] = [];
  text.push(
    'image                phase  Airlock ms  skopeo ms  ratio (per pair)          no tokens  copy process peak RSS  worker RSS  skopeo peak RSS',
  );
  markdown.push(
    '| image | phase | Airlock wall ms (median) | skopeo wall ms (median) | ratio Airlock / skopeo (median; per pair) | ratio without token grants | Airlock copy process peak RSS | worker RSS during the copy (before) | skopeo peak RSS | CPU s: copy process + worker / skopeo (medians) | targets |',
  );
  markdown.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of table) {
    const timeMet = r.ratio <= 1;
    const memMet = r.airlockRss < MEMORY_TARGET;
    const per = r.ratios.map((x) => fmt(x, 2)).join(', ');
    text.push(
      `${r.title.padEnd(20)} ${r.phase.padEnd(5)}  ${fmt(r.airlockMs).padStart(10)}  ${fmt(r.skopeoMs).padStart(9)}  ` +
        `${`${fmt(r.ratio, 2)} (${per})`.padEnd(24)}  ${fmt(r.noTokenRatio, 2).padStart(9)}  ` +
        `${`${mb1(r.airlockRss)} MB`.padStart(21)}  ${`${mb1(r.workerPeak)} MB`.padStart(10)}  ${`${mb1(r.skopeoRss)} MB`.padStart(15)}`,
    );
    markdown.push(
      `| ${r.title} | ${r.phase} | ${fmt(r.airlockMs)} | ${fmt(r.skopeoMs)} | **${fmt(r.ratio, 2)}** (${per}) | ` +
        `${fmt(r.noTokenRatio, 2)} | **${mb(r.airlockRss)} MB** | ${mb(r.workerPeak)} MB (${mb(r.workerBaseline)} MB) | ` +
        `${mb(r.skopeoRss)} MB | ${fmt(r.childCpu, 2)} + ${fmt(r.workerCpu, 2)} / ${fmt(r.skopeoCpu, 2)} | ` +
        `time ${timeMet ? 'met' : '**missed**'}, memory ${memMet ? 'met' : '**missed**'} |`,
    );
  }
  for (const r of results.filter((x) => x.skipped)) {
    text.push(`${r.case.title}: not run (${r.skipped})`);
    markdown.push(`| ${r.case.title} | — | not run: ${r.skipped} | | | | | | | | |`);
  }
  const cold = table.filter((r) => r.phase === 'cold');
  const airlockRuns = results.flatMap((r) => r.measurements.filter((m) => m.tool === 'airlock'));
  const starts = airlockRuns.map((m) => m.airlock?.childStartMs ?? 0).filter((ms) => ms > 0);
  if (cold.length > 0) {
    markdown.push('');
    markdown.push(
      'What the copy process held during cold copies (process.memoryUsage() sampled every 20 ms, highest ' +
        'sample over the repetitions): ' +
        cold
          .map((r) => {
            const c = results.find((x) => x.case.title === r.title);
            const a = (c?.measurements ?? []).filter((m) => m.tool === 'airlock' && m.phase === 'cold');
            const buffers = Math.max(...a.map((m) => m.airlock?.child?.arrayBuffersPeak ?? 0));
            const heap = Math.max(...a.map((m) => m.airlock?.child?.heapUsedPeak ?? 0));
            return `${r.title}: array buffers ${mb(buffers)} MB, JS heap ${mb(heap)} MB`;
          })
          .join('; ') +
        '. Airlock made a median of ' +
        table
          .map((r) => `${fmt(r.tokenGrants)} token grants (${fmt(r.tokenMs)} ms) for ${r.title} ${r.phase}`)
          .join(', ') +
        (starts.length > 0
          ? `. Starting a copy process (fork to listening) took ${fmt(median(starts))} ms (median of ${starts.length}): ` +
            'a copy pays it when no process was idle (none copied in the last 60 s).'
          : '.'),
    );
  }
  const inline = results.filter((r) => r.inline?.airlock);
  if (inline.length > 0) {
    const line = inline
      .map((r) => {
        const a = r.inline?.airlock as CopyReport;
        return (
          `${r.case.title} cold: ${fmt(a.copyMs)} ms, worker peak RSS ${mb(a.worker.peakRss)} MB ` +
          `(${mb(a.worker.baselineRss)} MB before the copy; array buffers up to ${mb(a.worker.arrayBuffers)} MB)`
        );
      })
      .join('; ');
    text.push(`inline, in the worker process: ${line}`);
    markdown.push('');
    markdown.push(
      `The same cold copy once more with \`PROMOTER_COPY_PROCESS=inline\`, in the worker process itself ` +
        `(as before #18): ${line}.`,
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
  const memMet = table2.length > 0 && table2.every((r) => r.airlockRss < MEMORY_TARGET);
  const peak = Math.max(...table2.map((r) => r.airlockRss));
  const workerPeak = Math.max(...table2.map((r) => r.workerPeak));
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
      `process that copies peaking below 150 MB even for the 1 GiB image. **Time: ${timeMet ? 'met' : 'missed'}. ` +
      `Memory: ${memMet ? 'met' : 'missed'}** (the copy process up to ${mb(peak)} MB; the worker process, ` +
      `which no longer copies, up to ${mb(workerPeak)} MB during the copies; MB = 10⁶ bytes).`,
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
    '- Airlock: a process standing for the worker (bench/lib-copy-worker.ts) loads the worker’s whole module ' +
      'graph (apps/worker/worker.module: Nest, TypeORM, BullMQ, every check; not started, so without its ' +
      'database and queue connections) and is wired as the worker’s promoter is (`RegistryTokens` → ' +
      '`SourceRegistries` → `PromoterCopier`, `PROMOTER_COPY_PROCESS=child`): the copy runs in the copy ' +
      'process it forks (libs/oci/registry-child.ts), which asks the worker for each registry token. The copy ' +
      'is the promoter’s: the image with its evidence (`copyImage`: signatures, referrers, attestations; ' +
      'none here), 6 blobs at a time. Its wall time runs from the promoter’s copy call to its result and ' +
      'includes the client-credentials grants the worker makes at the issuer. Before it, untimed, the ' +
      'worker promotes a small other image (two 64 KiB layers), as a running worker has promoted before: ' +
      'the issuer is discovered, the code compiled, and the copy process started and idle (it is kept 60 s). ' +
      'The copy process’s peak RSS is its VmHWM (getrusage’s maxRSS would carry the worker’s peak over ' +
      'through fork and exec), over its whole life: the warm-up copy and the timed one. The worker’s RSS is ' +
      'sampled every 20 ms during the copy; in brackets, before it.',
  );
  lines.push(
    '- skopeo: `skopeo copy --preserve-digests docker://source/repo@digest docker://target/repo@digest` ' +
      'with `--src-registry-token`/`--dest-registry-token` fetched from the same issuer beforehand (not timed), ' +
      'TLS verification off (plain http on loopback). Wall time is the whole process; peak RSS and CPU from ' +
      '`/usr/bin/time`.',
  );
  lines.push(
    '- Cold: each copy goes to a target registry started empty for it (a fresh repository on a registry ' +
      'already holding the blobs would let skopeo mount them: its blob-info cache remembers where it pushed). Warm: the same copy ' +
      'again, every blob present (Airlock finds the manifest there with one HEAD and stops; skopeo looks at ' +
      'each blob and writes the manifest again). Mount: then the same image into a second repository of that target registry ' +
      '(a repository sharing its base with one promoted before: here every blob is shared): Airlock is given the ' +
      'first repository to mount from (`CopyOptions.mountFrom`, as the promoter passes the target repository it ' +
      'promoted to last), skopeo mounts from its blob-info cache, its token covering pull on the first repository. ' +
      'Pairs run back to back (cold pair, warm pair, mount pair), the tool that goes first ' +
      'alternating; the ratio is taken within each pair, and the median over the repetitions is shown. ' +
      'CPU of the copy process is its own account (`process.cpuUsage()` around the copy), of the worker ' +
      'likewise.',
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
