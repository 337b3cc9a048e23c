// The packages an SBOM lists, from the two formats Airlock accepts as attestations: CycloneDX
// (JSON, any 1.x) and SPDX 2.x (JSON). Only what the scans need is read: the package URL, name,
// version and license expression. The document came from a verified attestation, but is still
// attacker-influenced: it must first match the official JSON schema of the version it declares
// (sbom-schemas.ts), and is then read defensively all the same: sizes are bounded and odd entries are
// problems, not crashes.
import { identityOfPurl, type PackageIdentity } from './package-identity';
import { validateSbomSchema } from './sbom-schemas';

export type SbomFormat = 'spdx' | 'cyclonedx';

export interface SbomPackage {
  name: string;
  version: string | null;
  purl: string | null;
  /** The advisory identity, when the purl's type has an ecosystem. */
  identity: PackageIdentity | null;
  /** An SPDX expression, or null when the SBOM gives none (or says NOASSERTION / NONE). */
  license: string | null;
}

export interface SbomContents {
  format: SbomFormat;
  packages: SbomPackage[];
  /** Entries that could not be read (a malformed purl); they are still listed in `packages` when named. */
  problems: string[];
}

export const MAX_SBOM_PACKAGES = 100_000;
const MAX_DEPTH = 32;

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** `NOASSERTION` and `NONE` say nothing about what the license is. */
function spdxLicense(value: unknown): string | null {
  const s = str(value)?.trim();
  return s && s !== 'NOASSERTION' && s !== 'NONE' ? s : null;
}

/**
 * A package's name; neither schema forbids an empty one, so the purl's name stands in. With
 * neither, the entry is a problem (an unchecked package), not silently dropped.
 */
function nameOf(name: unknown, purl: unknown, problems: string[]): string | null {
  const given = str(name);
  if (given) return given;
  const fromPurl =
    typeof purl === 'string' ? /^pkg:[^/]+\/(?:[^@?#]*\/)?([^/@?#]+)/.exec(purl)?.[1] : undefined;
  if (fromPurl) return decodeURIComponent(fromPurl);
  if (purl !== undefined || name !== undefined)
    problems.push('an entry with neither a name nor a package URL');
  return null;
}

function pkg(
  name: string,
  version: string | null,
  purl: string | null,
  license: string | null,
  problems: string[],
): SbomPackage {
  let identity: PackageIdentity | null = null;
  let ver = version;
  if (purl) {
    try {
      const parsed = identityOfPurl(purl);
      identity = parsed.identity;
      // The purl is what advisories are matched on: its version wins, and a contradiction is said.
      if (parsed.version && version && parsed.version !== version)
        problems.push(
          `${name}: version ${version.slice(0, 100)} but its purl says ${parsed.version.slice(0, 100)}`,
        );
      ver = parsed.version ?? ver;
    } catch (e) {
      problems.push(
        `${name}: malformed purl ${purl.slice(0, 200)}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return { name, version: ver, purl, identity, license };
}

/**
 * CycloneDX `licenses`: either one `{expression}` or a list of `{license: {id | name}}`, which
 * all apply (CycloneDX lists them conjunctively; a name with no id is not SPDX, so unknown).
 */
function cycloneDxLicense(licenses: unknown): string | null {
  const entries = arr(licenses).map(obj);
  if (entries.length === 0) return null;
  const expression = entries.map((e) => str(e.expression)).find((e) => e !== null);
  if (expression) return expression;
  const ids = entries.map((e) => str(obj(e.license).id));
  if (ids.some((id) => id === null)) return null;
  return ids.length === 1 ? ids[0] : ids.map((id) => `(${id})`).join(' AND ');
}

function cycloneDx(doc: Record<string, unknown>): SbomContents {
  const packages: SbomPackage[] = [];
  const problems: string[] = [];
  const walk = (components: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) {
      problems.push(`components nested deeper than ${MAX_DEPTH} levels were not read`);
      return;
    }
    for (const c of arr(components).map(obj)) {
      if (packages.length >= MAX_SBOM_PACKAGES) {
        problems.push(`more than ${MAX_SBOM_PACKAGES} packages: the rest were not read`);
        return;
      }
      const name = nameOf(c.name, c.purl, problems);
      if (name) packages.push(pkg(name, str(c.version), str(c.purl), cycloneDxLicense(c.licenses), problems));
      walk(c.components, depth + 1);
    }
  };
  // Components may also stand under the described component and in formulation (1.5+): a package
  // the walk does not reach would be a package no check sees. The described component itself is
  // the image, not a package in it.
  walk(doc.components, 0);
  walk(obj(obj(doc.metadata).component).components, 0);
  for (const f of arr(doc.formulation).map(obj)) walk(f.components, 0);
  return { format: 'cyclonedx', packages, problems };
}

function spdx(doc: Record<string, unknown>): SbomContents {
  const packages: SbomPackage[] = [];
  const problems: string[] = [];
  for (const p of arr(doc.packages).map(obj)) {
    if (packages.length >= MAX_SBOM_PACKAGES) {
      problems.push(`more than ${MAX_SBOM_PACKAGES} packages: the rest were not read`);
      break;
    }
    const purl =
      arr(p.externalRefs)
        .map(obj)
        .filter((r) => r.referenceType === 'purl')
        .map((r) => str(r.referenceLocator))
        .find((r) => r !== null) ?? null;
    const name = nameOf(p.name, purl, problems);
    if (!name) continue;
    // The concluded license is the reviewed one; the declared one is what the package says.
    const license = spdxLicense(p.licenseConcluded) ?? spdxLicense(p.licenseDeclared);
    packages.push(pkg(name, str(p.versionInfo), purl, license, problems));
  }
  return { format: 'spdx', packages, problems };
}

/**
 * The packages of an SBOM predicate. Throws when the document is not the format it claims, declares a
 * version without a schema here (CycloneDX 1.2–1.7, SPDX 2.2 and 2.3), or does not match that schema;
 * the message names the format, the version and the first schema errors.
 */
export function readSbom(format: SbomFormat, predicate: unknown): SbomContents {
  const doc = obj(predicate);
  if (format === 'cyclonedx') {
    if (doc.bomFormat !== 'CycloneDX') throw new Error('not a CycloneDX document (bomFormat)');
    validateSbomSchema('cyclonedx', doc);
    return cycloneDx(doc);
  }
  if (typeof doc.spdxVersion !== 'string' || !doc.spdxVersion.startsWith('SPDX-2.'))
    throw new Error('not an SPDX 2.x document (spdxVersion)');
  validateSbomSchema('spdx', doc);
  return spdx(doc);
}
