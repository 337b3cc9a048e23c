// OSV advisories (https://ossf.github.io/osv-schema/), the format the OSV project publishes per
// ecosystem (`all.zip` of one JSON file per advisory). Only the fields Airlock reads are typed;
// the schema below checks those strictly and lets the rest through.
import Ajv, { type ErrorObject } from 'ajv';
import { isRealTimestamp, jsonShapeProblem } from '../domain';

export type OsvEvent =
  { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

export interface OsvRange {
  type: 'SEMVER' | 'ECOSYSTEM' | 'GIT';
  events: OsvEvent[];
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  severity?: OsvSeverity[];
  database_specific?: Record<string, unknown>;
  ecosystem_specific?: Record<string, unknown>;
}

export interface OsvAdvisory {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  database_specific?: Record<string, unknown>;
}

const TIMESTAMP =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$';
const VERSION = { type: 'string', minLength: 1, maxLength: 256 } as const;
const SEVERITY_LIST = {
  type: 'array',
  maxItems: 20,
  items: {
    type: 'object',
    required: ['type', 'score'],
    properties: { type: { type: 'string', maxLength: 64 }, score: { type: 'string', maxLength: 256 } },
  },
} as const;

/** The parts of the OSV schema (1.x) Airlock relies on. */
export const OSV_SCHEMA = {
  type: 'object',
  required: ['id', 'modified'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
    modified: { type: 'string', pattern: TIMESTAMP },
    published: { type: 'string', pattern: TIMESTAMP },
    withdrawn: { type: 'string', pattern: TIMESTAMP },
    aliases: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 128 } },
    summary: { type: 'string', maxLength: 2000 },
    details: { type: 'string' },
    severity: SEVERITY_LIST,
    affected: {
      type: 'array',
      maxItems: 5000,
      items: {
        type: 'object',
        properties: {
          package: {
            type: 'object',
            required: ['ecosystem', 'name'],
            properties: {
              ecosystem: { type: 'string', minLength: 1, maxLength: 128 },
              name: { type: 'string', minLength: 1, maxLength: 512 },
              purl: { type: 'string', maxLength: 1024 },
            },
          },
          severity: SEVERITY_LIST,
          versions: { type: 'array', maxItems: 50000, items: VERSION },
          ranges: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'object',
              required: ['type', 'events'],
              properties: {
                type: { type: 'string', enum: ['SEMVER', 'ECOSYSTEM', 'GIT'] },
                events: {
                  type: 'array',
                  minItems: 1,
                  maxItems: 1000,
                  items: {
                    type: 'object',
                    minProperties: 1,
                    maxProperties: 1,
                    properties: {
                      introduced: VERSION,
                      fixed: VERSION,
                      last_affected: VERSION,
                      limit: VERSION,
                    },
                    additionalProperties: false,
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile<OsvAdvisory>(OSV_SCHEMA);

const describe = (e: ErrorObject): string => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`;

/** Every problem with a document that claims to be an OSV advisory; empty when it is one. */
export function osvProblems(doc: unknown): string[] {
  const shape = jsonShapeProblem(doc);
  if (shape) return [`/: the document ${shape}`];
  if (validate(doc)) {
    return [doc.modified, doc.published, doc.withdrawn]
      .filter((t): t is string => t !== undefined && !isRealTimestamp(t))
      .map((t) => `${t} is not a real date`);
  }
  return (validate.errors ?? []).slice(0, 5).map(describe);
}
