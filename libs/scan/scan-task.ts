// A secret scan in a registry process (libs/oci/registry-child.ts loads this module on its first
// scan): the layers the worker did not find in its cache are read here, and each layer's result
// goes back as it ends, for the worker to cache and combine (see LayerScanReader).
import { type Readable } from 'node:stream';
import { Failure } from '../domain/failure';
import { compileGitleaksRules } from './gitleaks-rules';
import { type LayerProblem } from './layer-reader';
import {
  DEFAULT_SECRET_SCAN_LIMITS,
  type LayerScan,
  readLayersHere,
  type SecretScanLimits,
} from './secret-scan';
import { type CompiledSecretRule } from './secret-rule';

export interface ScanTask {
  layers: ReadonlyArray<{ digest: string; mediaType: string; size: number }>;
  limits: Partial<SecretScanLimits>;
  /** base64 */
  fingerprintKey?: string;
  /** A policy's rule sets, as the worker read them at boot (gitleaks TOML). */
  rules?: ReadonlyArray<{ set: string; toml: string }>;
  concurrency: number;
}

/**
 * Compiled rules per combination of sets and texts: one array each, so its pre-filter is built
 * once (secret-scanner's WeakMap), as in the worker.
 */
const compiled = new Map<string, readonly CompiledSecretRule[]>();

function extraRules(rules: ScanTask['rules']): readonly CompiledSecretRule[] | undefined {
  if (rules === undefined || rules.length === 0) return undefined;
  const key = JSON.stringify(rules);
  let combined = compiled.get(key);
  if (combined === undefined) {
    combined = rules.flatMap((r) => compileGitleaksRules(r.set, r.toml));
    compiled.set(key, combined);
  }
  return combined;
}

/**
 * Reads and scans the task's layers; `open` fetches a layer's blob, `onLayer` reports its scan.
 * Once `signal` is aborted no further layer is opened (the worker cut the connections in flight).
 */
export async function runScanTask(
  task: ScanTask,
  open: (layer: ScanTask['layers'][number]) => Promise<Readable>,
  onLayer: (digest: string, scan: LayerScan) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const options = {
    // The registry client verifies size and digest while streaming; the scan need not hash again.
    verifyDigest: false,
    fingerprintKey:
      task.fingerprintKey === undefined ? undefined : Buffer.from(task.fingerprintKey, 'base64'),
    extraRules: extraRules(task.rules),
    concurrency: task.concurrency,
  };
  await readLayersHere(
    task.layers.map((l) => ({
      ...l,
      open: async () => {
        if (signal?.aborted) throw Failure.transient('the scan was cancelled');
        return open(l);
      },
    })),
    { ...DEFAULT_SECRET_SCAN_LIMITS, ...task.limits },
    options,
    // The time budget runs from here: the fork and any wait for a free scan process came before
    // and are not counted. The worker's deadline for the process (maxScanMillis and a margin, from
    // when it sent the scan) catches one that stops answering.
    performance.now(),
    onLayer,
  );
}

/** A layer's scan after crossing as JSON: a problem's Failure rebuilt (its message is the problem's). */
export function layerScanFromWire(scan: LayerScan): LayerScan {
  const problems = scan.problems.map((p): LayerProblem =>
    p.failure === undefined ? p : { ...p, failure: new Failure(p.message, p.failure.permanent === true) },
  );
  return { ...scan, problems };
}
