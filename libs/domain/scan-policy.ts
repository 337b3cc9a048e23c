// The `scans` section of a policy: what may be inside the image. Secrets are looked for in the
// layers; vulnerabilities and licenses are read from the image's attested SBOM.
import { RE2JS } from 're2js';

/** An exception an admin grants, for a reason, until a date: expired entries stop counting. */
export interface ScanException {
  reason: string;
  /** RFC 3339 date-time, e.g. `2027-01-31T00:00:00Z`. */
  expires: string;
}

export interface SecretsScanSection {
  /** Known, accepted values by fingerprint (a test fixture's fake key, say). */
  allow?: Array<ScanException & { fingerprint: string }>;
  /**
   * Operators' rule sets to run beside the built-in rules: gitleaks TOML files in the folder
   * SECRET_SCAN_RULES_DIR names, by file name without `.toml`.
   */
  rules?: string[];
  /**
   * Paths whose findings do not block (vendored test fixtures): RE2 patterns on the path in the
   * image (`^usr/lib/python3/.*\/tests?/`), each with a reason and an expiry. Nothing is
   * allow-listed by path unless the policy says so.
   */
  allowPaths?: Array<ScanException & { path: string }>;
}

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface VulnerabilitiesScanSection {
  /** The ceiling: findings rated above it block (`high` lets high through and blocks critical). */
  maxSeverity: Severity;
  /** Only findings with a published fixed version block. Default false. */
  fixableOnly?: boolean;
  /** Advisories with no CVSS vector and no rating: block (`fail`, the default) or only warn. */
  unknownSeverity?: 'fail' | 'warn';
  /**
   * Packages that cannot be checked: no version, a version the ecosystem cannot order against an
   * advisory, a package URL that does not parse. Block (`fail`, the default) or only warn.
   */
  unresolved?: 'fail' | 'warn';
  /** Advisory ids (OSV ids or any alias, e.g. a CVE) accepted until they expire. */
  allow?: Array<ScanException & { id: string }>;
}

export interface LicensesScanSection {
  /** SPDX license ids (or `GPL-2.0+`, `Apache-2.0 WITH LLVM-exception`): a package's expression must be satisfiable by these. */
  allow?: string[];
  /** SPDX license ids a package may not need: an expression that cannot avoid one of these is denied. */
  deny?: string[];
  /** Packages with no license, `NOASSERTION` or an expression that does not parse. Default `fail`. */
  unknown?: 'fail' | 'warn';
}

export interface ScansSection {
  secrets?: SecretsScanSection;
  vulnerabilities?: VulnerabilitiesScanSection;
  licenses?: LicensesScanSection;
}

const RFC3339 =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$/;

const EXCEPTION_FIELDS = {
  reason: { type: 'string', minLength: 1, maxLength: 1000 },
  expires: { type: 'string', pattern: RFC3339.source, description: 'RFC 3339, e.g. 2027-01-31T00:00:00Z' },
} as const;

const LICENSE_LIST = {
  type: 'array',
  minItems: 1,
  maxItems: 500,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 200 },
} as const;

/** JSON Schema of the `scans` section (a fragment of the policy schema). */
export const SCANS_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    secrets: {
      type: 'object',
      additionalProperties: false,
      description: 'Scan every layer for credentials',
      properties: {
        allow: {
          type: 'array',
          maxItems: 500,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['fingerprint', 'reason', 'expires'],
            properties: {
              fingerprint: {
                type: 'string',
                pattern: '^[0-9a-f]{16}$',
                description: "A finding's fingerprint",
              },
              ...EXCEPTION_FIELDS,
            },
          },
        },
        rules: {
          type: 'array',
          maxItems: 20,
          uniqueItems: true,
          description:
            "Operators' rule sets (gitleaks TOML files in SECRET_SCAN_RULES_DIR) to run beside the built-in rules",
          items: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
        },
        allowPaths: {
          type: 'array',
          maxItems: 100,
          description: 'Paths whose findings do not block (RE2 patterns on the path in the image)',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['path', 'reason', 'expires'],
            properties: {
              path: { type: 'string', minLength: 1, maxLength: 1000, description: 'RE2 pattern' },
              ...EXCEPTION_FIELDS,
            },
          },
        },
      },
    },
    vulnerabilities: {
      type: 'object',
      additionalProperties: false,
      required: ['maxSeverity'],
      description: "Match the attested SBOM's packages against the imported OSV advisories",
      properties: {
        maxSeverity: { type: 'string', enum: SEVERITIES, description: 'Findings rated above this block' },
        fixableOnly: { type: 'boolean', default: false },
        unknownSeverity: { type: 'string', enum: ['fail', 'warn'], default: 'fail' },
        unresolved: { type: 'string', enum: ['fail', 'warn'], default: 'fail' },
        allow: {
          type: 'array',
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'reason', 'expires'],
            properties: { id: { type: 'string', minLength: 1, maxLength: 200 }, ...EXCEPTION_FIELDS },
          },
        },
      },
    },
    licenses: {
      type: 'object',
      additionalProperties: false,
      anyOf: [{ required: ['allow'] }, { required: ['deny'] }],
      description: "Check the attested SBOM's licenses",
      properties: {
        allow: LICENSE_LIST,
        deny: LICENSE_LIST,
        unknown: { type: 'string', enum: ['fail', 'warn'], default: 'fail' },
      },
    },
  },
} as const;

/** An RFC 3339 timestamp naming an instant that exists (no February 30th, no hour 25). */
export function isRealTimestamp(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = value.slice(0, 19).split(/[-T:]/).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
}

/** Whether an exception still counts at `now`. */
export function exceptionApplies(e: ScanException, now: Date): boolean {
  const until = Date.parse(e.expires);
  return Number.isFinite(until) && until > now.getTime();
}

/** Rank of a severity, for ceilings: none 0 … critical 4. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/**
 * Problems beyond the schema, reported when a policy version is saved: dates that do not exist,
 * license ids SPDX does not know, and SBOM-based scans without anyone trusted to sign the SBOM.
 */
export function scansSectionProblems(
  scans: ScansSection,
  hasSigners: boolean,
  validLicense: (id: string) => boolean,
): string[] {
  const problems: string[] = [];
  const dates = [
    ...(scans.secrets?.allow ?? []).map((e, i) => [`/scans/secrets/allow/${i}/expires`, e.expires] as const),
    ...(scans.secrets?.allowPaths ?? []).map(
      (e, i) => [`/scans/secrets/allowPaths/${i}/expires`, e.expires] as const,
    ),
    ...(scans.vulnerabilities?.allow ?? []).map(
      (e, i) => [`/scans/vulnerabilities/allow/${i}/expires`, e.expires] as const,
    ),
  ];
  for (const [path, value] of dates) {
    if (!isRealTimestamp(value)) problems.push(`${path}: ${value} is not a real date`);
  }
  (scans.secrets?.allowPaths ?? []).forEach((e, i) => {
    try {
      RE2JS.compile(e.path);
    } catch (err) {
      problems.push(
        `/scans/secrets/allowPaths/${i}/path: ${(err as Error).message} (RE2 syntax: no lookaround, no backreferences)`,
      );
    }
  });
  for (const list of ['allow', 'deny'] as const) {
    (scans.licenses?.[list] ?? []).forEach((id, i) => {
      if (!validLicense(id)) problems.push(`/scans/licenses/${list}/${i}: ${id} is not an SPDX license id`);
    });
  }
  if ((scans.vulnerabilities || scans.licenses) && !hasSigners) {
    problems.push(
      '/scans: vulnerability and license scans read the attested SBOM; add a signatures section naming who may sign it',
    );
  }
  return problems;
}
