// `node dist/bench/rollback.js`: a rollback's copy beside a warm promotion's, between two registries
// with token auth. A rollback's digest is in the target already (Airlock promoted it there), so the
// promoter copies it from the target to itself: every blob is found present, only the manifest is
// put back. A warm promotion copies from the source with every blob already in the target. Both run
// in the copy process of bench/promoter.ts (bench/lib-copy-worker.ts: the worker's wiring, its own
// token grants), each after an untimed warm-up copy in the same process.
//
// Settings (optional): ROLLBACK_BENCH_REPS=5, ROLLBACK_BENCH_LAYERS=5, ROLLBACK_BENCH_LAYER_MIB=20,
// BENCH_DOC=docs/benchmarks.md|none
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CopyStats } from '../libs/oci';
import { pushImage } from '../test/support/oci-images';
import { startRegistry } from '../test/support/registry';
import type { CopyJob, CopyReport } from './lib-copy-worker';
import { fmt, machineInfo, median, writeMarkedSection } from './lib-report';
import { tokenRegistrySetup } from './lib-token-registries';

const env = process.env;
const REPS = Math.max(1, Number(env.ROLLBACK_BENCH_REPS ?? 5));
const LAYERS = Math.max(1, Number(env.ROLLBACK_BENCH_LAYERS ?? 5));
const LAYER_MIB = Math.max(1, Number(env.ROLLBACK_BENCH_LAYER_MIB ?? 20));
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const SOURCE_REPO = 'bench/app';
const TARGET_REPO = 'bench/prod-app';
const WARMUP_REPO = 'bench/warmup';

type Kind = 'warm promotion' | 'rollback';

async function copyProcess(job: CopyJob): Promise<CopyReport> {
  const child = spawn(process.execPath, [resolve(__dirname, 'lib-copy-worker.js'), JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  if (code !== 0) throw new Error(`the copy failed (${code}): ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as CopyReport;
}

async function main(): Promise<void> {
  const info = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-rollback-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const { auth, profile, secretsDir, token } = await tokenRegistrySetup(dir, stops);
    const push = async (host: string, repo: string, layers: number, layerSize: number) =>
      pushImage(host, repo, 'v1', {
        layers,
        layerSize,
        gzipLevel: 0,
        auth: {
          bearerToken: await token(`repository:${repo}:pull,push`),
        },
      });
    const source = await startRegistry({ auth });
    stops.push(() => source.stop());
    const target = await startRegistry({ auth });
    stops.push(() => target.stop());
    const image = await push(source.host, SOURCE_REPO, LAYERS, LAYER_MIB * 1024 * 1024);
    // The warm-up image, in both registries: each copy process copies it first, untimed.
    const warmups = {
      [source.host]: await push(source.host, WARMUP_REPO, 2, 64 * 1024),
      [target.host]: await push(target.host, WARMUP_REPO, 2, 64 * 1024),
    };
    const job = (from: string, fromRepository: string): CopyJob => ({
      profile,
      secretsDir,
      source: { host: from, repository: fromRepository },
      target: { host: target.host, repository: TARGET_REPO },
      digest: image.digest,
      mode: 'child',
      warmup: {
        sourceRepository: WARMUP_REPO,
        targetRepository: `${WARMUP_REPO}-copy`,
        digest: warmups[from].digest,
      },
    });
    // The first promotion (cold), untimed: from here on the target holds every blob.
    await copyProcess(job(source.host, SOURCE_REPO));

    const runs: Record<Kind, CopyReport[]> = { 'warm promotion': [], rollback: [] };
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate which goes first.
      const order: Kind[] = rep % 2 === 0 ? ['warm promotion', 'rollback'] : ['rollback', 'warm promotion'];
      for (const kind of order) {
        runs[kind].push(
          await copyProcess(
            kind === 'rollback' ? job(target.host, TARGET_REPO) : job(source.host, SOURCE_REPO),
          ),
        );
      }
    }
    const rows = (Object.keys(runs) as Kind[]).map((kind) => {
      const rs = runs[kind];
      const stats: CopyStats = rs[rs.length - 1].stats;
      return {
        kind,
        copyMs: median(rs.map((r) => r.copyMs)),
        // The worker's and its copy process's.
        cpuMs: median(rs.map((r) => r.workerCpuMs + (r.child?.cpuMs ?? 0))),
        tokenGrants: median(rs.map((r) => r.tokenGrants)),
        stats,
      };
    });
    const table = [
      '| copy | median wall (ms) | median CPU (ms) | token grants | blobs present | blobs copied / mounted | bytes copied |',
      '| --- | --: | --: | --: | --: | --: | --: |',
      ...rows.map(
        (r) =>
          `| ${r.kind} | ${fmt(r.copyMs, 1)} | ${fmt(r.cpuMs, 1)} | ${r.tokenGrants} | ${r.stats.blobsPresent} | ${r.stats.blobsCopied} / ${r.stats.blobsMounted} | ${r.stats.bytesCopied} |`,
      ),
    ];
    for (const line of table) console.log(line);
    if (DOC !== 'none') {
      await writeMarkedSection(
        DOC,
        'rollback',
        [
          '## Rollback: the copy of a rollback beside a warm promotion',
          '',
          `${info.date}, ${info.revision}; ${info.cpus}, ${info.memory}, Node ${info.node}. An image of ${LAYERS} × ${LAYER_MIB} MiB between two token-auth registries (Debian docker-registry), ${REPS} runs each, alternating, each in a copy process of its own after an untimed warm-up copy (\`node dist/bench/rollback.js\`). A rollback copies the digest from the target to itself: every blob is found present, none moves, and the source is not read; the tag and Airlock's attestation are written after the copy in both cases.`,
          '',
          ...table,
        ].join('\n'),
      );
      console.log(`wrote the rollback section of ${DOC}`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
