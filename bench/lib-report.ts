// Shared by bench/trust-checks.ts and bench/promoter.ts: percentiles, a description of the machine,
// and a writer for one marked section of docs/benchmarks.md (`<!-- bench:<name>:start -->` …
// `<!-- bench:<name>:end -->`) that leaves every other section alone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';

/** Nearest-rank percentile of unsorted values (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export interface MachineInfo {
  date: string;
  revision: string;
  cpus: string;
  memory: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  let revision = 'unknown revision';
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    revision = `${rev}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    // not a git checkout
  }
  const list = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    revision,
    cpus: `${list.length} cores (${list[0]?.model.trim() ?? 'unknown CPU'})`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    node: process.version,
  };
}

/**
 * Replaces the section `name` of `file` (between its markers), or appends it, and formats the file
 * with the repository's Prettier settings (so `format:check` stays green). Everything outside the
 * markers is kept as it was; the file is read and written back at once, to keep the window for a
 * concurrent writer of another section small.
 */
export async function writeMarkedSection(file: string, name: string, section: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n\n${section.trim()}\n\n${end}`;
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  // Format the block alone first, so formatting the whole file changes nothing outside it.
  const formatted = (await prettier.format(block, { ...options, filepath: file })).trim();
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const s = text.indexOf(start);
  const e = text.indexOf(end);
  if (s >= 0 && e > s) {
    text = text.slice(0, s) + formatted + text.slice(e + end.length);
  } else {
    text = `${text.replace(/\s*$/, '')}\n\n${formatted}\n`;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
