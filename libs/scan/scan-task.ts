// A secret scan in a registry process (libs/oci/registry-child.ts loads this module on its first
// scan): the layers the worker did not find in its cache are read here, and each layer's result
// goes back as it ends, for the worker to cache and combine (see LayerScanReader).
import { type Readable } from 'node:stream';
import { Failure } from '../domain/failure';
import { loadGitleaksRuleSets } from './gitleaks-rules';
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
  rules?: { dir: string; sets: readonly string[] };
  concurrency: number;
}

/** Rule sets by directory, read once per process (the worker checked them at boot). */
const ruleSetsByDir = new Map<string, ReadonlyMap<string, readonly CompiledSecretRule[]>>();
/** One array per combination of sets, so its pre-filter is built once (secret-scanner's WeakMap). */
const combinations = new Map<string, readonly CompiledSecretRule[]>();

function extraRules(rules: ScanTask['rules']): readonly CompiledSecretRule[] | undefined {
  if (rules === undefined || rules.sets.length === 0) return undefined;
  const key = `${rules.dir}\n${rules.sets.join('\n')}`;
  let combined = combinations.get(key);
  if (combined === undefined) {
    let sets = ruleSetsByDir.get(rules.dir);
    if (sets === undefined) {
      sets = loadGitleaksRuleSets(rules.dir);
      ruleSetsByDir.set(rules.dir, sets);
    }
    const missing = rules.sets.filter((n) => !sets.has(n));
    if (missing.length > 0)
      throw Failure.permanent(`the secret rule set(s) ${missing.join(', ')} are not in ${rules.dir}`);
    combined = rules.sets.flatMap((n) => sets.get(n)!);
    combinations.set(key, combined);
  }
  return combined;
}

/** Reads and scans the task's layers; `open` fetches a layer's blob, `onLayer` reports its scan. */
export async function runScanTask(
  task: ScanTask,
  open: (layer: ScanTask['layers'][number]) => Promise<Readable>,
  onLayer: (digest: string, scan: LayerScan) => Promise<void>,
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
    task.layers.map((l) => ({ ...l, open: () => open(l) })),
    { ...DEFAULT_SECRET_SCAN_LIMITS, ...task.limits },
    options,
    // The time budget starts when the process receives the scan: the worker's cache lookup before
    // it is a few milliseconds.
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
