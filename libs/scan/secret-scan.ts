// The secret scan of an image: every layer streamed once, in order, each text file scanned in
// memory. `error` when any layer could not be read completely and safely (a limit, a malformed
// archive, path traversal, a link out of the root): such a layer was not fully scanned, so its
// silence proves nothing. Otherwise `fail` when anything was found, else `pass`.
import { type Readable } from 'node:stream';
// By file: the domain index would load the policy schemas (ajv) into a scan process.
import { classifyFailure, Failure } from '../domain/failure';
import { CheckStatus } from '../domain/policy';
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
  /** The blob's size from the manifest: a scan process fetches it by digest and size. */
  size?: number;
  /** Opens the blob's compressed bytes; called once per scan (here, not in a scan process). */
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
  /** Layers whose result came from the cache (not read). */
  cachedLayers: number;
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

/**
 * What one layer holds, independent of the image it is in: the unit the scan cache stores. Findings
 * carry no `deletedIn` (that depends on the layers above, so it is worked out per image).
 */
export interface LayerScan {
  findings: SecretFinding[];
  /** Findings beyond `maxFindings` in this layer alone. */
  findingsDropped: number;
  whiteouts: Whiteout[];
  problems: LayerProblem[];
  compressedBytes: number;
  bytes: number;
  entries: number;
  scannedFiles: number;
  skippedLarge: number;
  skippedBinary: number;
}

/**
 * Results of earlier scans, by layer digest, under one version (see layerScanVersion): a layer
 * found here is not read again. Only layers read completely without a problem are stored.
 */
export interface LayerScanCache {
  get(digests: readonly string[]): Promise<Map<string, LayerScan>>;
  put(digest: string, scan: LayerScan): Promise<void>;
}

/**
 * Reads `layers` (those not in the cache) and hands each one's scan to `onLayer` as it ends,
 * resolving once every layer's `onLayer` has: in this process (readLayersHere), or in a registry
 * process of the worker's (SecretsCheck, SECRET_SCAN_PROCESS=child).
 */
export type LayerScanReader = (
  layers: readonly ScanLayer[],
  onLayer: (digest: string, scan: LayerScan) => Promise<void>,
) => Promise<void>;

export interface SecretScanRunOptions extends SecretScanOptions {
  cache?: LayerScanCache;
  /** Layers read at the same time (decompression runs on libuv's threads). Default 2. */
  concurrency?: number;
  /** Where the layers are read; default here (readLayersHere). */
  reader?: LayerScanReader;
}

const emptyLayerScan = (): LayerScan => ({
  findings: [],
  findingsDropped: 0,
  whiteouts: [],
  problems: [],
  compressedBytes: 0,
  bytes: 0,
  entries: 0,
  scannedFiles: 0,
  skippedLarge: 0,
  skippedBinary: 0,
});

/** Reads and scans one layer; never throws (a layer that could not be read has a problem). */
export async function scanLayer(
  layer: ScanLayer,
  lim: SecretScanLimits,
  options: SecretScanOptions,
  started: number,
): Promise<LayerScan> {
  const scan = emptyLayerScan();
  let source: Readable;
  try {
    source = await layer.open();
  } catch (err) {
    scan.problems.push({
      kind: 'read-failed',
      layer: layer.digest,
      message: `the layer could not be fetched: ${err instanceof Error ? err.message : String(err)}`,
      failure: classifyFailure(err),
    });
    return scan;
  }
  const keep = (found: readonly SecretFinding[]): void => {
    for (const f of found) {
      if (scan.findings.length < lim.maxFindings) scan.findings.push(f);
      else scan.findingsDropped += 1;
    }
  };
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
      );
    },
    // Files whose name is the secret (PKCS#12 key stores), binary or not.
    onBinaryFile: (path) => keep(pathFindings(path, layer.digest, options)),
  });
  scan.problems.push(...read.problems);
  scan.whiteouts = read.whiteouts;
  scan.compressedBytes = read.compressedBytes;
  scan.bytes = read.uncompressedBytes;
  scan.entries = read.entries;
  scan.scannedFiles = read.scannedFiles;
  scan.skippedLarge = read.skipped.tooLarge;
  scan.skippedBinary = read.skipped.binary;
  return scan;
}

/**
 * One image's result from its layers' scans, in layer order: `deletedIn` from the whiteouts of the
 * layers above each finding's, the whole-scan `maxFindings` over them all. A blob listed twice
 * counts once (its files are already in the findings).
 */
export function combineLayerScans(
  layers: readonly ScanLayer[],
  scans: readonly LayerScan[],
  maxFindings: number,
  ms = 0,
): SecretScanResult {
  const findings: SecretFinding[] = [];
  const problems: LayerProblem[] = [];
  const stats: SecretScanStats = {
    layers: layers.length,
    compressedBytes: 0,
    bytes: 0,
    entries: 0,
    scannedFiles: 0,
    skippedLarge: 0,
    skippedBinary: 0,
    findingsDropped: 0,
    cachedLayers: 0,
    ms,
  };
  const counted = new Set<string>();
  for (const [index, layer] of layers.entries()) {
    if (counted.has(layer.digest)) continue;
    counted.add(layer.digest);
    const scan = scans[index];
    problems.push(...scan.problems);
    stats.compressedBytes += scan.compressedBytes;
    stats.bytes += scan.bytes;
    stats.entries += scan.entries;
    stats.scannedFiles += scan.scannedFiles;
    stats.skippedLarge += scan.skippedLarge;
    stats.skippedBinary += scan.skippedBinary;
    stats.findingsDropped += scan.findingsDropped;
    for (const f of scan.findings) {
      if (findings.length >= maxFindings) {
        stats.findingsDropped += 1;
        continue;
      }
      // A copy: a cached layer's findings are shared between images, `deletedIn` is not.
      const finding: SecretFinding = { ...f };
      delete finding.deletedIn;
      for (let j = index + 1; j < layers.length && !finding.deletedIn; j++)
        if (scans[j].whiteouts.some((w) => removedBy(finding.path, w))) finding.deletedIn = layers[j].digest;
      findings.push(finding);
    }
  }
  const status =
    problems.length > 0
      ? CheckStatus.Error
      : findings.length > 0 || stats.findingsDropped > 0
        ? CheckStatus.Fail
        : CheckStatus.Pass;
  return { status, findings, problems, stats };
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return out;
}

/** Reads and scans `layers` in this process, `options.concurrency` (default 2) at a time. */
export async function readLayersHere(
  layers: readonly ScanLayer[],
  lim: SecretScanLimits,
  options: SecretScanRunOptions,
  started: number,
  onLayer: (digest: string, scan: LayerScan) => Promise<void>,
): Promise<void> {
  await mapLimited(layers, options.concurrency ?? 2, async (layer) =>
    onLayer(layer.digest, await scanLayer(layer, lim, options, started)),
  );
}

export async function scanLayers(
  layers: readonly ScanLayer[],
  limits: Partial<SecretScanLimits> = {},
  options: SecretScanRunOptions = {},
): Promise<SecretScanResult> {
  const started = performance.now();
  const lim: SecretScanLimits = { ...DEFAULT_SECRET_SCAN_LIMITS, ...limits };
  const unique = [...new Map(layers.map((l) => [l.digest, l])).values()];
  const cached = options.cache
    ? await options.cache.get(unique.map((l) => l.digest))
    : new Map<string, LayerScan>();
  const toRead = unique.filter((l) => !cached.has(l.digest));
  const byDigest = new Map<string, LayerScan>(cached);
  const onLayer = async (digest: string, scan: LayerScan): Promise<void> => {
    byDigest.set(digest, scan);
    // Only a complete, clean read says what the layer holds; a problem is retried next time.
    if (options.cache && scan.problems.length === 0) await options.cache.put(digest, scan);
  };
  if (options.reader) await options.reader(toRead, onLayer);
  else await readLayersHere(toRead, lim, options, started, onLayer);
  const missing = toRead.find((l) => !byDigest.has(l.digest));
  if (missing) throw Failure.transient(`the secret scan reported nothing for layer ${missing.digest}`);
  const result = combineLayerScans(
    layers,
    layers.map((l) => byDigest.get(l.digest)!),
    lim.maxFindings,
    Math.round(performance.now() - started),
  );
  result.stats.cachedLayers = unique.filter((l) => cached.has(l.digest)).length;
  return result;
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
