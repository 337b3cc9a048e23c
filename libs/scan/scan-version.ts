// What a cached layer scan was made with. A layer's result is reused only under the same version:
// the code of this module (rules, triggers, matcher, reader: any edit changes what a scan finds),
// the versions of the secretlint packages it runs, the layer limits that applied and the key the
// fingerprints were made with. Computed in this one place; a change to any part invalidates the
// whole cache.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type LayerLimits } from './layer-reader';

const SECRETLINT_PACKAGES = [
  '@secretlint/core',
  '@secretlint/secretlint-rule-preset-recommend',
  '@secretlint/secretlint-rule-pattern',
];

let codeVersion: string | undefined;

/** Files of the scan code (compiled or source), tests left out, in a stable order. */
function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...codeFiles(path));
    else if (!/\.(spec|e2e-spec)\.[jt]s$/.test(name) && !name.endsWith('.map')) out.push(path);
  }
  return out;
}

/** sha256 over the scan code and the rule packages' versions; read once per process. */
export function secretRulesVersion(): string {
  if (codeVersion) return codeVersion;
  const h = createHash('sha256');
  for (const file of codeFiles(__dirname)) {
    h.update(file.slice(__dirname.length).replace(/\.[jt]s$/, ''));
    h.update('\0');
    // Compiled or source, the same edit changes the bytes; the extension does not matter.
    h.update(readFileSync(file));
    h.update('\0');
  }
  for (const pkg of SECRETLINT_PACKAGES) {
    try {
      const json = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as {
        version?: string;
      };
      h.update(`${pkg}@${json.version ?? '?'}\0`);
    } catch {
      h.update(`${pkg}@absent\0`);
    }
  }
  codeVersion = h.digest('hex');
  return codeVersion;
}

/** The limits that decide what one layer's scan holds (the whole-scan time budget does not). */
export type LayerScanLimits = LayerLimits & { maxFindings: number };

const VERSIONED_LIMITS: ReadonlyArray<keyof LayerScanLimits> = [
  'maxUncompressedBytes',
  'maxEntries',
  'maxEntryBytes',
  'maxScannedFileBytes',
  'maxCompressionRatio',
  'ratioFloorBytes',
  'maxFindings',
];

/**
 * The cache version for scans made with these limits and this fingerprint key: a change of rules,
 * limits or key gives another version, under which no earlier result is found.
 */
export function layerScanVersion(
  limits: LayerScanLimits,
  fingerprintKey?: Buffer,
  rules = secretRulesVersion(),
): string {
  const h = createHash('sha256');
  h.update(`rules ${rules}\n`);
  for (const k of VERSIONED_LIMITS) h.update(`${k}=${limits[k]}\n`);
  h.update(`key ${fingerprintKey ? createHash('sha256').update(fingerprintKey).digest('hex') : 'none'}\n`);
  return h.digest('hex');
}
