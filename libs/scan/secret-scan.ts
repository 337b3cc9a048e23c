// The secret scan of an image: every layer streamed once, in order, each text file scanned in
// memory. `error` when any layer could not be read completely and safely (a limit, a malformed
// archive, path traversal, a link out of the root): such a layer was not fully scanned, so its
// silence proves nothing. Otherwise `fail` when anything was found, else `pass`.
import { type Readable } from 'node:stream';
import { CheckStatus, classifyFailure } from '../domain';
import {
  CallbackLimitExceeded,
  DEFAULT_LAYER_LIMITS,
  type LayerLimits,
  type LayerProblem,
  readLayer,
  type Whiteout,
} from './layer-reader';
import { type CompiledSecretRule } from './secret-rule';
import { pathFindings, scanFileForSecrets, type SecretFinding } from './secret-scanner';

export interface ScanLayer {
  digest: string;
  mediaType: string;
  /** Opens the blob's compressed bytes; called once per scan. */
  open(): Promise<Readable>;
}

/** Layer limits apply to each layer on its own; `maxFindings` to the whole scan. */
export interface SecretScanLimits extends LayerLimits {
  /** Findings kept; beyond this they are counted (`stats.findingsDropped`) and the status stays `fail`. */
  maxFindings: number;
  /**
   * Time the whole scan may take. Checked between files: past it, the layer being read and every
   * later one end with a `limit` problem, so an image built to be slow cannot hold a worker.
   */
  maxScanMillis: number;
}

export const DEFAULT_SECRET_SCAN_LIMITS: Readonly<SecretScanLimits> = {
  ...DEFAULT_LAYER_LIMITS,
  maxFindings: 500,
  maxScanMillis: 10 * 60 * 1000,
};

export interface SecretScanStats {
  layers: number;
  /** Compressed bytes read. */
  compressedBytes: number;
  /** Uncompressed tar bytes read. */
  bytes: number;
  entries: number;
  scannedFiles: number;
  skippedLarge: number;
  skippedBinary: number;
  findingsDropped: number;
  ms: number;
}

export interface SecretScanResult {
  status: CheckStatus;
  findings: SecretFinding[];
  problems: LayerProblem[];
  stats: SecretScanStats;
}

export interface SecretScanOptions {
  /** Verify each layer's bytes against its digest while reading. Default true. */
  verifyDigest?: boolean;
  /**
   * Run on each file only the rules that could report something in it. Default true; false runs
   * every rule on every file (same findings, several times slower: for tests and benchmarks).
   */
  prefilter?: boolean;
  /** The deployment's key for fingerprints (see fingerprintSecret). */
  fingerprintKey?: Buffer;
  /** Rules added to the built-in ones for this scan (a policy's rule sets), compiled. */
  extraRules?: readonly CompiledSecretRule[];
}

/** True when a whiteout in a later layer removes `path`. */
function removedBy(path: string, w: Whiteout): boolean {
  if (w.opaque) return w.path === '' || path.startsWith(`${w.path}/`);
  return path === w.path || path.startsWith(`${w.path}/`);
}

export async function scanLayers(
  layers: readonly ScanLayer[],
  limits: Partial<SecretScanLimits> = {},
  options: SecretScanOptions = {},
): Promise<SecretScanResult> {
  const started = performance.now();
  const lim: SecretScanLimits = { ...DEFAULT_SECRET_SCAN_LIMITS, ...limits };
  const findings: SecretFinding[] = [];
  const problems: LayerProblem[] = [];
  const whiteouts: Whiteout[][] = [];
  const stats: SecretScanStats = {
    layers: layers.length,
    compressedBytes: 0,
    bytes: 0,
    entries: 0,
    scannedFiles: 0,
    skippedLarge: 0,
    skippedBinary: 0,
    findingsDropped: 0,
    ms: 0,
  };

  const findingLayer: number[] = [];
  const keep = (found: readonly SecretFinding[], index: number) => {
    for (const f of found) {
      if (findings.length < lim.maxFindings) {
        findings.push(f);
        findingLayer.push(index);
      } else stats.findingsDropped += 1;
    }
  };
  const seen = new Map<string, Whiteout[]>();
  for (const [index, layer] of layers.entries()) {
    // An image may list the same blob twice; its files are already in the findings.
    const again = seen.get(layer.digest);
    if (again) {
      whiteouts.push(again);
      continue;
    }
    let source: Readable;
    try {
      source = await layer.open();
    } catch (err) {
      problems.push({
        kind: 'read-failed',
        layer: layer.digest,
        message: `the layer could not be fetched: ${err instanceof Error ? err.message : String(err)}`,
        failure: classifyFailure(err),
      });
      whiteouts.push([]);
      seen.set(layer.digest, []);
      continue;
    }
    const read = await readLayer(source, {
      digest: layer.digest,
      mediaType: layer.mediaType,
      limits: lim,
      verifyDigest: options.verifyDigest,
      onFile: async (file) => {
        if (performance.now() - started > lim.maxScanMillis) {
          throw new CallbackLimitExceeded(
            `the scan took longer than ${Math.round(lim.maxScanMillis / 1000)} s (limit maxScanMillis)`,
          );
        }
        keep(
          await scanFileForSecrets(file, layer.digest, {
            prefilter: options.prefilter,
            fingerprintKey: options.fingerprintKey,
            extraRules: options.extraRules,
          }),
          index,
        );
      },
      onBinaryFile: (path) => keep(pathFindings(path, layer.digest, options), index),
    });
    problems.push(...read.problems);
    whiteouts.push(read.whiteouts);
    seen.set(layer.digest, read.whiteouts);
    stats.compressedBytes += read.compressedBytes;
    stats.bytes += read.uncompressedBytes;
    stats.entries += read.entries;
    stats.scannedFiles += read.scannedFiles;
    stats.skippedLarge += read.skipped.tooLarge;
    stats.skippedBinary += read.skipped.binary;
  }

  for (const [i, f] of findings.entries()) {
    for (let j = findingLayer[i] + 1; j < layers.length && !f.deletedIn; j++)
      if (whiteouts[j].some((w) => removedBy(f.path, w))) f.deletedIn = layers[j].digest;
  }

  stats.ms = Math.round(performance.now() - started);
  const status =
    problems.length > 0
      ? CheckStatus.Error
      : findings.length > 0 || stats.findingsDropped > 0
        ? CheckStatus.Fail
        : CheckStatus.Pass;
  return { status, findings, problems, stats };
}

/** One line for a check summary. */
export function summariseSecretScan(result: SecretScanResult): string {
  const total = result.findings.length + result.stats.findingsDropped;
  const found = total === 0 ? 'no secrets found' : `${total} secret${total === 1 ? '' : 's'} found`;
  if (result.status === CheckStatus.Error) {
    const first = result.problems[0];
    const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more problems)` : '';
    return `the secret scan could not read every layer: ${first?.message ?? 'unknown problem'}${more}; ${found} in what was read`;
  }
  // Files over the size limit were not read: say so, so a pass is not taken for more than it is.
  const large = result.stats.skippedLarge
    ? `; ${result.stats.skippedLarge} over the size limit not read`
    : '';
  return `${found} in ${result.stats.layers} layer${result.stats.layers === 1 ? '' : 's'} (${result.stats.scannedFiles} files scanned${large})`;
}
